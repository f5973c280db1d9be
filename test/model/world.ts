import { type Job, type JobContext, type Logger, Queue, type Worker } from '../../src/index.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../src/json-payload.ts';
import type { Store } from '../../src/store/store.ts';
import { ManualClock } from '../support/wait.ts';

/**
 * The real system a model-based sequence drives: queues on one database sharing an injected clock, at most
 * one live worker (in its own queue, as if in its own process), crashed workers whose store calls hang
 * forever (a process that died: nothing it does reaches the database again), and handlers the sequence
 * settles by hand (return a value, throw, report progress) through a registry that also checks, at every
 * handler start, that no job runs twice at once and that no cancelled or deleted job runs again.
 */

/** What the world needs from a database: fresh stores on it, and a way to empty it between sequences. */
export interface ModelDb {
  kind: 'sqlite' | 'postgres';
  /** A new store (own connection or pool) on the shared database. */
  openStore(logger: Logger): Promise<Store>;
  /** Deletes every job (cheap: one statement per table). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const LEASE_MS = 600_000;
export const T0 = Date.UTC(2030, 0, 1);
/** Fixed retry delay, no jitter: the model knows each retry's runAt. */
export const BACKOFF = { type: 'fixed', delay: 1_000 } as const;

/** How a handler ends when the sequence settles it. */
export type Ending =
  | { kind: 'return'; value: unknown }
  | { kind: 'throw'; thrown: unknown };

/** One handler invocation. */
export interface Run {
  jobId: string;
  attempt: number;
  worker: string;
  ctx: JobContext;
  /** Resolved by the sequence (settle) or by an abort the handler honours. */
  ended: boolean;
  /** The worker crashed: this handler is as dead as its process. */
  dead: boolean;
  end(ending: Ending): void;
}

/** Violations found while the system ran (at handler starts), reported by the next check. */
export class Registry {
  readonly runs: Run[] = [];
  readonly violations: string[] = [];
  /** When true, handlers return 'auto' at once (the final drain). */
  auto = false;
  /** Asked at each handler start: may this job run now? (null = yes, else why not) */
  mayStart: (jobId: string) => string | null = () => null;

  live(worker?: string): Run[] {
    return this.runs.filter((r) => !r.ended && !r.dead && (worker === undefined || r.worker === worker));
  }

  handler(worker: string) {
    return (job: Job, ctx: JobContext): Promise<unknown> => {
      const overlapping = this.runs.find((r) => r.jobId === job.id && !r.ended && !r.dead);
      if (overlapping) this.violations.push(`job ${job.id} started (attempt ${ctx.attempt}, ${worker}) while attempt ${overlapping.attempt} still runs in ${overlapping.worker}: two handlers at once`);
      const refused = this.mayStart(job.id);
      if (refused) this.violations.push(`job ${job.id} started (attempt ${ctx.attempt}) but ${refused}`);
      if (this.auto) return Promise.resolve('auto');
      return new Promise((resolve, reject) => {
        const run: Run = {
          jobId: job.id,
          attempt: ctx.attempt,
          worker,
          ctx,
          ended: false,
          dead: false,
          end: (ending) => {
            if (run.ended) return;
            run.ended = true;
            if (ending.kind === 'return') resolve(ending.value);
            else reject(ending.thrown);
          },
        };
        // Handlers honour their signal: cancel, delete, lost lease and shutdown end them at once.
        ctx.signal.addEventListener('abort', () => run.end({ kind: 'throw', thrown: ctx.signal.reason }));
        this.runs.push(run);
      });
    };
  }
}

/**
 * A store whose process can die: crash() makes every call, and every answer still on its way, hang forever;
 * bury() then rejects them all, so the dead worker's own stop() can end (it writes nothing: every call fails).
 */
export function crashableStore(inner: Store): { store: Store; crash(): Promise<void>; bury(): void } {
  let state: 'alive' | 'crashed' | 'buried' = 'alive';
  const hung: ((error: Error) => void)[] = [];
  /** Calls passed to the database and not answered yet: at a crash they still run (they are on the wire). */
  const onTheWire = new Set<Promise<unknown>>();
  const hang = <T>(): Promise<T> =>
    state === 'buried' ? Promise.reject(new Error('the process is dead')) : new Promise<T>((_, reject) => hung.push(reject));
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || key === 'watch' || key === 'stats' || key === 'close') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        if (state !== 'alive') return hang();
        const call = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        onTheWire.add(call);
        const settled = () => onTheWire.delete(call);
        call.then(settled, settled);
        return call.then(
          (result) => (state === 'alive' ? result : hang()),
          (error: unknown) => (state === 'alive' ? Promise.reject(error) : hang()),
        );
      };
    },
  });
  return {
    store,
    /** Dies now; resolves once the statements it had on the wire have run (their answers are never heard). */
    async crash() {
      state = 'crashed';
      await Promise.allSettled([...onTheWire]);
    },
    bury() {
      state = 'buried';
      for (const reject of hung.splice(0)) reject(new Error('the process is dead'));
    },
  };
}

/** A worker and the queue it lives in (its "process"). */
export interface LiveWorker {
  tag: string;
  concurrency: number;
  queue: Queue;
  worker: Worker;
  crash(): Promise<void>;
  /** Stops a crashed worker's leftovers in the background; resolves when done. */
  dispose(): Promise<void>;
}

/** Everything one run of sequences shares: the clock, the main and the "other process" queues, the registry. */
export class World {
  readonly clock = new ManualClock(T0);
  readonly registry = new Registry();
  live: LiveWorker | null = null;
  readonly zombies: LiveWorker[] = [];
  readonly problems: string[] = [];
  private workerSeq = 0;
  private burials: Promise<void>[] = [];

  private constructor(
    readonly db: ModelDb,
    readonly main: Queue,
    readonly other: Queue,
  ) {}

  static async open(db: ModelDb): Promise<World> {
    const box: { world?: World } = {};
    const logger = World.problemLogger(() => box.world?.problems);
    const main = await World.queueOn(db, logger, box);
    const other = await World.queueOn(db, logger, box);
    box.world = new World(db, main, other);
    return box.world;
  }

  private static problemLogger(sink: () => string[] | undefined): Logger {
    return { debug() {}, info() {}, warn: (m) => void sink()?.push(`warn: ${m}`), error: (m) => void sink()?.push(`error: ${m}`) };
  }

  private static async queueOn(db: ModelDb, logger: Logger, box: { world?: World }, store?: Store): Promise<Queue> {
    const clock = { now: () => box.world!.clock.now() };
    return new Queue(store ?? (await db.openStore(logger)), { clock, logger, maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES });
  }

  /** Queues (processes) whose worker stopped cleanly: the next worker reuses one rather than open a connection. */
  private readonly idle: { queue: Queue; crashable: ReturnType<typeof crashableStore>; mute: () => void }[] = [];

  /** Starts a worker of `concurrency` in a queue of its own (its "process"). */
  async startWorker(concurrency: number): Promise<LiveWorker> {
    const tag = `w${++this.workerSeq}`;
    const proc = this.idle.pop() ?? (await this.openProcess());
    const worker = proc.queue.worker(
      { m: this.registry.handler(tag) },
      { id: tag, concurrency, prefetch: 0, pollMs: 10, progressFlushMs: 10, leaseMs: LEASE_MS, graceMs: 0 },
    );
    await worker.start();
    await (proc.crashable.store as { listening?: () => Promise<void> }).listening?.();
    const live: LiveWorker = {
      tag,
      concurrency,
      queue: proc.queue,
      worker,
      crash: async () => {
        for (const run of this.registry.live(tag)) run.dead = true;
        await proc.crashable.crash();
      },
      dispose: async () => {
        // Its process is gone: from now on every call fails at once, its handlers end, and its stop() gives up.
        proc.mute();
        proc.crashable.bury();
        for (const run of this.registry.runs) if (run.worker === tag && !run.ended) run.end({ kind: 'throw', thrown: new Error('dead') });
        await worker.stop().catch(() => {});
        await proc.queue.close().catch(() => {});
      },
    };
    this.procOf.set(live, proc);
    this.live = live;
    return live;
  }

  private readonly procOf = new Map<LiveWorker, World['idle'][number]>();

  private async openProcess(): Promise<World['idle'][number]> {
    let muted = false;
    const logger = World.problemLogger(() => (muted ? undefined : this.problems));
    const crashable = crashableStore(await this.db.openStore(logger));
    const queue = new Queue(crashable.store, { clock: this.clock, logger, maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES });
    // Keeps the change feed (PostgreSQL: its LISTEN connection) open between this process's workers.
    crashable.store.watch(() => {});
    return { queue, crashable, mute: () => void (muted = true) };
  }

  /** Stops the live worker gracefully; its queue waits for the next worker. */
  async stopWorker(): Promise<void> {
    const live = this.live!;
    this.live = null;
    await live.worker.stop();
    this.idle.push(this.procOf.get(live)!);
    this.procOf.delete(live);
  }

  /** Kills the live worker: nothing it does reaches the database any more (what it had sent still runs). */
  async crashWorker(): Promise<void> {
    const live = this.live!;
    this.live = null;
    this.zombies.push(live);
    await live.crash();
  }

  /** Ends one sequence: stops the live worker, buries the dead ones (in the background), empties the database. */
  async endSequence(): Promise<void> {
    this.registry.auto = true;
    for (const run of this.registry.live()) run.end({ kind: 'return', value: 'auto' });
    if (this.live) await this.stopWorker();
    for (const zombie of this.zombies.splice(0)) {
      this.procOf.delete(zombie);
      this.burials.push(zombie.dispose());
    }
    this.registry.runs.length = 0;
    this.registry.violations.length = 0;
    this.registry.auto = false;
    this.problems.length = 0;
    await this.db.reset();
    this.clock.time = T0;
  }

  async close(): Promise<void> {
    if (this.live) await this.stopWorker();
    for (const zombie of this.zombies.splice(0)) this.burials.push(zombie.dispose());
    await Promise.all(this.burials);
    for (const proc of this.idle.splice(0)) await proc.queue.close();
    await this.main.close();
    await this.other.close();
    await this.db.close();
  }
}
