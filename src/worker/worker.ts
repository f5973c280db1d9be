import type { Clock } from '../clock.ts';
import { ValidationError } from '../errors.ts';
import { FaultReporter } from '../fault-reporter.ts';
import type { QueueEvents } from '../events.ts';
import type { Job } from '../job.ts';
import type { NameControl } from '../limits/limits.ts';
import type { Logger } from '../logger.ts';
import type { FeedEvent, Store } from '../store/store.ts';
import { type RetentionPolicy, RetentionRunner } from '../retention.ts';
import { ScheduleFirer } from '../schedules/firer.ts';
import { AttemptAbort } from './attempt.ts';
import { BackgroundSlot } from './background-slot.ts';
import { ClaimLoop } from './claim-loop.ts';
import { HeldJobs } from './held-jobs.ts';
import { IGNORED_ABORT_MS, JobRunner } from './job-runner.ts';
import type { LocalAdds } from './local-adds.ts';
import type { LocalSignals } from './local-signals.ts';
import { OutcomeBatcher } from './outcome-batcher.ts';
import { NameSplit } from './name-split.ts';
import { Ticker } from './ticker.ts';
import { Waker } from './waker.ts';
import { type Handlers, resolveWorkerConfig, type WorkerConfig, type WorkerOptions } from './worker-options.ts';
import { newWorkerStats, type WorkerStats } from './worker-stats.ts';

/**
 * Least time between two reads of the schedules when none is due sooner. A worker sleeps until the next due
 * fire it knows of (punctual); this read only discovers schedules declared or resumed by other processes
 * (this process's own wake the firer at once). A poll of 20 ms would read them 50 times a second for nothing.
 */
const SCHEDULE_POLL_MIN_MS = 1_000;

/** What the queue hands its workers. */
export interface WorkerDeps {
  clock: Clock;
  logger: Logger;
  events: QueueEvents;
  signals: LocalSignals;
  /** Jobs this process added: their 'added' events on the change feed are echoes, already announced. */
  localAdds: LocalAdds;
  maxPayloadBytes: number;
  /** openQueue({ retention }): what this worker deletes periodically (none: nothing). */
  retention?: RetentionPolicy;
  onStopped: (worker: Worker) => void;
}

/**
 * Runs jobs: claims as many as it has free slots in one statement, runs them, and writes their outcomes
 * in batches (on SQLite carried by the next claim: one round trip). One tick statement per interval keeps the
 * leases of all its running jobs, writes their coalesced progress and learns of cancellations.
 * Database cost per job: its share of a claim, of the ticks it lives through, and of a completion.
 *
 * This class wires the parts and owns the lifecycle (start, handoff, stop); the work is done by the claim
 * loop (claim-loop.ts), the runner (job-runner.ts), the outcome batcher (outcome-batcher.ts) and the ticker
 * (ticker.ts), over the jobs held (held-jobs.ts).
 */
export class Worker {
  readonly id: string;
  private readonly config: WorkerConfig;
  private readonly counters: WorkerStats = newWorkerStats();
  private readonly held = new HeldJobs();
  private readonly waker = new Waker();
  private readonly batcher: OutcomeBatcher;
  private readonly runner: JobRunner;
  private readonly loop: ClaimLoop;
  private readonly ticker: Ticker;
  private readonly split: NameSplit;
  private readonly firer: ScheduleFirer;
  private readonly retention: RetentionRunner | undefined;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    handlers: Handlers,
    options: WorkerOptions,
    private readonly deps: WorkerDeps,
  ) {
    this.config = resolveWorkerConfig(handlers, options);
    this.id = this.config.id;
    const { clock, logger, events } = deps;
    const isRunning = () => this.state === 'running';
    const health = new FaultReporter(logger, `worker ${this.id}`);
    const nudge = () => this.waker.nudge();
    const slot = new BackgroundSlot();
    this.batcher = new OutcomeBatcher({
      clock, events, stats: this.counters, onRetry: (runAt) => this.loop.wakeAt(runAt), nudge,
      onParentsReady: () => deps.signals.emit('runnable', clock.now()),
    });
    this.runner = new JobRunner(this.held, {
      config: this.config, clock, logger, events, stats: this.counters, maxPayloadBytes: deps.maxPayloadBytes, batcher: this.batcher, isRunning, nudge,
      readChildren: (parentId) => store.children({ parentId, ignored: false }),
    });
    this.split = new NameSplit(store, this.config.names, this.config.settings.pollMs, clock, logger, () => this.loop.lookForWork());
    this.loop = new ClaimLoop(store, this.held, this.batcher, this.runner, this.waker, {
      config: this.config, clock, logger, stats: this.counters, health, isRunning, split: this.split, onScheduleDue: (at) => this.firer.wakeBy(at),
    });
    this.firer = new ScheduleFirer({
      store, names: this.config.names, clock, logger, health, pollMs: Math.max(this.config.settings.pollMs, SCHEDULE_POLL_MIN_MS), slot, onFired: (runAt) => this.onRunnable(runAt),
    });
    if (deps.retention) this.retention = new RetentionRunner(store, deps.retention, { clock, health, slot });
    this.ticker = new Ticker(store, this.held, {
      workerId: this.id, leaseMs: this.config.settings.leaseMs, clock, logger, stats: this.counters, health, slot, onCancel: this.onCancel, onLost: this.onDelete,
    });
  }

  /** Starts claiming and running jobs. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new ValidationError([`worker ${this.id} was already started; create a new one with queue.worker()`]);
    this.state = 'running';
    // Which names are paused or limited, before the first claim (one statement).
    await this.split.refresh();
    this.deps.signals.on('runnable', this.onRunnable);
    this.deps.signals.on('controls', this.onControls);
    this.deps.signals.on('cancel', this.onCancel);
    this.deps.signals.on('delete', this.onDelete);
    this.deps.signals.on('schedules', this.onSchedules);
    this.firer.start();
    this.retention?.start();
    // Only additions and retries are reasons to claim; the rest of the feed (started, completed… of every
    // batch of every worker) is not even parsed for a worker.
    this.unwatch = this.store.watch(this.onFeed, ['added', 'retrying']);
    const { progressFlushMs, leaseMs } = this.config.settings;
    // A third of the lease at most, so two ticks can fail before a lease runs out.
    this.ticker.start(Math.min(progressFlushMs, Math.floor(leaseMs / 3)));
    this.loopDone = this.loop.run();
  }

  /**
   * Graceful stop: claims nothing more, releases prefetched jobs, lets running jobs finish for up to graceMs,
   * then aborts the rest (signal reason 'shutdown') and releases each to pending, without spending its
   * attempt, once its handler returns. A handler that ignores its signal keeps its job's lease until it
   * returns (so no other worker runs the job meanwhile), stop() waits for it, and the worker logs one error
   * line naming the jobs after 1 s.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /**
   * Reserves a slot for a job being added in this process, if this worker would start it at once: running,
   * drained (its last claim found nothing else runnable, so nothing of higher priority waits), no claim on
   * the wire, a slot free. The job is then inserted already claimed by this worker: one statement and one
   * commit from add() to the handler, instead of an insert, a wake-up and a claim. Follow with adopt().
   */
  reserveHandoff(name: string): { workerId: string; leaseUntil: number } | null {
    if (this.state !== 'running' || !this.loop.idle || !this.config.names.includes(name)) return null;
    // A paused or limited name's jobs start only through the limit-aware claim.
    if (this.split.isLimited(name)) return null;
    if (this.held.size >= this.config.settings.concurrency) return null;
    this.held.reserved++;
    return { workerId: this.id, leaseUntil: this.deps.clock.now() + this.config.settings.leaseMs };
  }

  /** Takes the job a reservation was for (null: it was not inserted, only free the slot). */
  adopt(job: Job | null): void {
    this.held.reserved--;
    if (job === null) return;
    this.held.buffer.push(job); // released at once if the worker is stopping
    this.runner.startBuffered();
    this.waker.nudge();
  }

  /** Counters since start. */
  stats(): WorkerStats & { running: number; idle: boolean } {
    const idle = this.state === 'running' && this.loop.idle && !this.split.busy && this.held.attempts.size + this.held.buffer.length === 0;
    return { ...this.counters, running: this.held.attempts.size, idle };
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      this.deps.onStopped(this);
      return;
    }
    this.state = 'stopping';
    this.runner.startBuffered(); // releases prefetched jobs at once, so other workers can take them
    this.waker.nudge();
    if (this.held.attempts.size > 0) {
      const { graceMs } = this.config.settings;
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([this.runner.whenIdle(), new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
      clearTimeout(graceTimer);
      const late = [...this.held.attempts.values()];
      for (const attempt of late) {
        attempt.abort(new AttemptAbort('shutdown', `worker ${this.id} stopped before the job finished (graceMs ${graceMs})`));
      }
      if (late.length > 0) this.waker.after(IGNORED_ABORT_MS, () => this.reportIgnoredAborts(late.map((a) => a.job.id)));
    }
    // The loop ends once every attempt has settled and its outcome is written; the ticker keeps the leases
    // of handlers still running (those that ignore their signal) until then.
    await this.loopDone;
    await Promise.all([this.firer.stop(), this.retention?.stop()]);
    this.ticker.stop();
    this.waker.clear();
    this.deps.signals.off('runnable', this.onRunnable);
    this.deps.signals.off('cancel', this.onCancel);
    this.deps.signals.off('delete', this.onDelete);
    this.deps.signals.off('controls', this.onControls);
    this.split.stop();
    this.deps.signals.off('schedules', this.onSchedules);
    this.unwatch?.();
    this.state = 'stopped';
    this.deps.onStopped(this);
  }

  /** One loud line for the handlers still running IGNORED_ABORT_MS after stop() aborted them. */
  private reportIgnoredAborts(ids: string[]): void {
    const still = ids.filter((id) => this.held.attempts.has(id));
    if (still.length === 0) return;
    const jobs = still.map((id) => `job ${id}`).join(', ');
    this.deps.logger.error(
      `worker ${this.id}: ${still.length === 1 ? 'the handler of' : 'the handlers of'} ${jobs} ignored the abort signal stop() sent at graceMs ` +
        `(${this.config.settings.graceMs} ms); stop() waits until ${still.length === 1 ? 'it returns' : 'they return'}, keeping the lease, so no other ` +
        'worker runs the job meanwhile. Make handlers honour ctx.signal (see docs/RELIABILITY.md).',
      { workerId: this.id, jobIds: still },
    );
  }

  private readonly onRunnable = (runAt: number): void => {
    if (this.state !== 'running') return;
    if (runAt <= this.deps.clock.now()) this.loop.lookForWork();
    else this.loop.wakeAt(runAt);
  };

  /** Another process added or retried jobs (or, on SQLite, committed anything): look for work now. */
  private readonly onFeed = (events: FeedEvent[]): void => {
    for (const event of events) {
      if (event.type === 'external') {
        this.split.changedElsewhere();
        this.loop.dueUnknown();
        this.onRunnable(this.deps.clock.now());
      }
      else if ((event.type === 'added' || event.type === 'retrying') && event.names.some((n) => this.config.names.includes(n))) {
        const runAt = event.runAt ?? this.deps.clock.now();
        // This process's own adds were announced locally (or handed over): their echo is no news.
        const itemised = event.type === 'added' && event.ids.length > 0 && event.ids.length === (event.count ?? event.ids.length);
        // The event carries its batch's earliest runAt: later ones of the batch are read after that wake-up.
        const fromFeed = () => {
          if (runAt > this.deps.clock.now()) this.loop.dueUnknown();
          this.onRunnable(runAt);
        };
        if (itemised) this.deps.localAdds.whenKnown(event.ids, (allLocal) => allLocal || fromFeed());
        else fromFeed();
      }
    }
  };

  /** This process paused, resumed or limited a name: the row as written applies at once. */
  private readonly onControls = (control: NameControl): void => {
    if (this.state === 'running') this.split.apply(control);
  };

  /** A schedule was declared, changed or resumed in this process: read the schedules again now. */
  private readonly onSchedules = (): void => {
    if (this.state === 'running') this.firer.poke();
  };

  private readonly onCancel = (id: string): void => {
    const held = this.held.unbuffer(id);
    if (held) this.batcher.add(held, { id, status: 'cancelled', error: 'cancelled by request' });
    this.held.attempts.get(id)?.abort(new AttemptAbort('cancelled', 'cancelled by request'));
  };

  private readonly onDelete = (id: string): void => {
    this.held.unbuffer(id);
    this.held.attempts.get(id)?.abort(new AttemptAbort('lost', 'the job was deleted or taken over by another worker (lease lost)'));
  };
}
