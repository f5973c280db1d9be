import type { Clock } from '../clock.ts';
import type { QueueEvents } from '../events.ts';
import type { Job } from '../job.ts';
import type { Logger } from '../logger.ts';
import { toJsonText } from '../json-payload.ts';
import { Attempt, type AttemptAbort, decideOutcome, type Handler, type JobContext, type Settlement } from './attempt.ts';
import { inAttemptSpan } from '../tracing.ts';
import type { HeldJobs } from './held-jobs.ts';
import type { OutcomeBatcher } from './outcome-batcher.ts';
import type { WorkerConfig } from './worker-options.ts';
import type { WorkerStats } from './worker-stats.ts';

/** How long a handler may outlive the abort of its attempt before the worker says it ignores its signal. */
export const IGNORED_ABORT_MS = 1_000;

/** What the runner needs from its worker. */
export interface JobRunnerDeps {
  config: WorkerConfig;
  clock: Clock;
  logger: Logger;
  events: QueueEvents;
  stats: WorkerStats;
  maxPayloadBytes: number;
  batcher: OutcomeBatcher;
  /** ctx.children(): one statement. */
  readChildren(parentId: string): Promise<Job[]>;
  /** False once the worker stops: buffered jobs are then released, not started. */
  isRunning(): boolean;
  nudge(): void;
}

/**
 * Runs claimed jobs in the worker's slots: starts buffered jobs while slots are free, gives each handler its
 * context (signal, progress, attempt), and turns each settlement into an outcome for the batcher. Keeps the
 * mean handler time, which sizes the prefetch.
 */
export class JobRunner {
  /** Mean handler time in ms (exponentially weighted), to size the prefetch. */
  meanRunMs = Number.POSITIVE_INFINITY;
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    private readonly held: HeldJobs,
    private readonly deps: JobRunnerDeps,
  ) {}

  /** Fills free slots from the buffer; while stopping, releases what is buffered instead. */
  startBuffered(): void {
    const { held, deps } = this;
    if (!deps.isRunning()) {
      for (const job of held.buffer.splice(0)) deps.batcher.add(job, { id: job.id, status: 'released' });
      return;
    }
    while (held.buffer.length > 0 && held.attempts.size < deps.config.settings.concurrency) this.begin(held.buffer.shift()!);
  }

  /** Resolves when no attempt runs. */
  whenIdle(): Promise<void> {
    if (this.held.attempts.size === 0) return Promise.resolve();
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve: () => { this.idle = undefined; resolve(); } };
    }
    return this.idle.promise;
  }

  /** Starts one claimed job, or settles at once a job that must not run. */
  private begin(job: Job): void {
    const { held, deps } = this;
    if (job.cancelRequested) {
      deps.batcher.add(job, { id: job.id, status: 'cancelled', error: 'cancelled while its worker was gone' });
      return;
    }
    if (job.attempts > job.maxAttempts) {
      const error = `its worker stopped during the last of ${job.maxAttempts} attempts (lease expired)`;
      deps.batcher.add(job, { id: job.id, status: 'failed', error, errorStack: null });
      return;
    }
    const attempt = new Attempt(job);
    held.attempts.set(job.id, attempt);
    deps.stats.started++;
    deps.events.emit('started', job);
    const ctx = new AttemptContext(attempt, deps.config.id, this.recordProgress, deps.readChildren);
    const handler = deps.config.handlers[job.name] as Handler;
    const began = performance.now();
    void inAttemptSpan(job, deps.config.id, () => attempt.run(handler, ctx), failureOf).then((settlement) => {
      held.attempts.delete(job.id);
      if (settlement.kind === 'aborted' && attempt.handlerRunning) this.watchDetached(attempt, settlement.abort);
      const ran = performance.now() - began;
      this.meanRunMs = Number.isFinite(this.meanRunMs) ? this.meanRunMs * 0.9 + ran * 0.1 : ran;
      const progressJson = attempt.dirtyProgress ?? attempt.sendingProgress;
      const outcome = decideOutcome(job, settlement, progressJson, deps.clock, undefined, deps.maxPayloadBytes);
      if (outcome) deps.batcher.add(job, outcome);
      this.startBuffered();
      if (held.attempts.size === 0) this.idle?.resolve();
      deps.nudge();
    });
  }

  /**
   * A timeout or cancel ended the attempt while its handler still runs. If it is still running a second
   * later it ignores its signal: say so once, since a retry of the job may start while it runs.
   */
  private watchDetached(attempt: Attempt, abort: AttemptAbort): void {
    const timer = setTimeout(() => {
      if (!attempt.handlerRunning) return;
      this.deps.logger.warn(
        `worker ${this.deps.config.id}: the handler of job ${attempt.job.id} still runs ${IGNORED_ABORT_MS} ms after its signal aborted ` +
          `(${abort.reason}); its attempt has ended, so the job may run again while this handler runs. Make handlers honour ctx.signal.`,
        { jobId: attempt.job.id, reason: abort.reason },
      );
    }, IGNORED_ABORT_MS);
    timer.unref();
  }

  /** ctx.progress(): kept in memory for the next tick, announced in-process at once. */
  private readonly recordProgress = (attempt: Attempt, value: unknown): void => {
    if (!this.held.attempts.has(attempt.job.id)) return;
    attempt.dirtyProgress = toJsonText(value, 'progress', this.deps.maxPayloadBytes);
    attempt.job.progress = value;
    if (this.deps.events.has('progress')) this.deps.events.emit('progress', { ...attempt.job });
  };
}

/**
 * What a handler gets besides its job. A class rather than an object literal per job: the literal's getter
 * and progress closure were built for every job (0.5 µs of a no-op job's 9); here `progress` is made only
 * when a handler reads it, and still works detached (`const { progress } = ctx`).
 */
class AttemptContext implements JobContext {
  readonly attempt: number;
  readonly #run: Attempt;
  readonly #record: (attempt: Attempt, value: unknown) => void;
  readonly #readChildren: (parentId: string) => Promise<Job[]>;
  #progress: ((value: unknown) => void) | undefined;

  constructor(run: Attempt, readonly workerId: string, record: (attempt: Attempt, value: unknown) => void, readChildren: (parentId: string) => Promise<Job[]>) {
    this.#run = run;
    this.#record = record;
    this.#readChildren = readChildren;
    this.attempt = run.job.attempts;
  }

  children(): Promise<Job[]> {
    return this.#readChildren(this.#run.job.id);
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }

  get progress(): (value: unknown) => void {
    return (this.#progress ??= (value) => this.#record(this.#run, value));
  }
}

/** What failed an attempt, for its span: the thrown value, or the abort of a timeout; undefined otherwise. */
function failureOf(settlement: Settlement): unknown {
  if (settlement.kind === 'threw') return settlement.error ?? new Error('threw undefined');
  if (settlement.kind === 'aborted' && settlement.abort.reason === 'timeout') return settlement.abort;
  return undefined;
}
