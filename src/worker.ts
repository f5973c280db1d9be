import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Attempt, AttemptAbort, decideOutcome, type Handler, type JobContext } from './attempt.ts';
import type { Clock } from './clock.ts';
import { ValidationError } from './errors.ts';
import type { QueueEvents, QueueEventType } from './events.ts';
import { jobNameSchema, parseInput, workerOptionsSchema } from './input-schemas.ts';
import type { Job } from './job.ts';
import { toJsonText } from './json-payload.ts';
import type { Logger } from './logger.ts';
import type { LocalSignals } from './queue.ts';
import type { FeedEvent, Outcome, Store } from './store/store.ts';

/** Options of queue.worker(). */
export interface WorkerOptions {
  /** Jobs run at once; default 1. The worker still needs one or two connections whatever this is. */
  concurrency?: number;
  /** How often the tick writes progress and extends leases; default 1,000 ms. */
  progressFlushMs?: number;
  /** How long a claim holds a job without a tick; past it, another worker takes the job. Default 30,000 ms. */
  leaseMs?: number;
  /** How often an idle worker looks for jobs added by other processes or coming due; default 1,000 ms. */
  pollMs?: number;
  /** How long stop() lets running jobs finish before releasing them; default 10,000 ms. */
  graceMs?: number;
  /**
   * Claimed jobs a worker may hold beyond its running ones, so short jobs are claimed and completed in
   * batches. Default 'auto': none while jobs take 20 ms or more on average, else max(400, 2 × concurrency).
   * Held jobs are leased (and show as running) until they start.
   */
  prefetch?: number | 'auto';
  /** The worker's id, stored as job.processingBy; default host:pid:random. */
  id?: string;
}

interface HandlerBox {
  // Method syntax on purpose: its parameters are bivariant, so a handler typed Job<MyData> fits the map.
  handle(job: Job, ctx: JobContext): unknown;
}
/** Handlers by job name. */
export type Handlers = Record<string, HandlerBox['handle']>;

/** What the queue hands its workers. */
export interface WorkerDeps {
  clock: Clock;
  logger: Logger;
  events: QueueEvents;
  signals: LocalSignals;
  maxPayloadBytes: number;
  onStopped: (worker: Worker) => void;
}

/** Counters of one worker, for tests and metrics. */
export interface WorkerStats {
  claims: number;
  ticks: number;
  started: number;
  completed: number;
  retried: number;
  failed: number;
  cancelled: number;
  released: number;
}

/** Jobs faster than this on average are prefetched and completed in batches. */
const SHORT_JOB_MS = 20;
/**
 * Claimed jobs a worker holds for short jobs, and outcomes written together at most. Store-only cycle of
 * claim + finish per transaction: batches of 100 → 74.8k jobs/s, 200 → 81.9k, 500 → 92.0k (.tmp/cycle.ts).
 */
const PREFETCH_SHORT = 400;
const FLUSH_BATCH = 400;
/** How long the oldest unwritten outcome may wait for company (ms). */
const FLUSH_DELAY_MS = 5;

const EVENT_OF: Partial<Record<Outcome['status'], QueueEventType>> = {
  completed: 'completed',
  retry: 'retrying',
  failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * Runs jobs: claims as many as it has free slots in one statement, runs them, and writes their outcomes
 * in batches that carry the next claim (one round trip). One tick statement per interval keeps the leases
 * of all its running jobs, writes their coalesced progress and learns of cancellations.
 * Database cost per job: its share of a claim, of the ticks it lives through, and of a completion.
 */
export class Worker {
  readonly id: string;
  private readonly names: string[];
  private readonly handlers: Handlers;
  private readonly opts: Required<Omit<WorkerOptions, 'id'>>;
  private readonly attempts = new Map<string, Attempt>();
  /** Claimed, not yet started (prefetch), in claim order. */
  private buffer: Job[] = [];
  /** Mean handler time in ms (exponentially weighted), to size the prefetch. */
  private meanRunMs = Number.POSITIVE_INFINITY;
  /** When the oldest unwritten outcome must be written by (performance.now() ms). */
  private flushBy = Number.POSITIVE_INFINITY;
  private readonly finishing = new Map<string, { job: Job; outcome: Outcome }>();
  private outcomes: Outcome[] = [];
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private drained = false;
  /** Bumped by every reason to look for work; a claim that came back short marks the worker drained only if none arrived while it ran. */
  private wakeSeq = 0;
  private claimInFlight: Promise<void> | undefined;
  private finishInFlight: Promise<void> | undefined;
  /** Consecutive failed store calls, and when the next may be tried (performance.now() ms). */
  private failures = 0;
  private retryAt = 0;
  private gaveUp = false;
  /** Slots promised to jobs being handed over by add() in this process. */
  private reserved = 0;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticking = false;
  private unwatch: (() => void) | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly counters: WorkerStats = { claims: 0, ticks: 0, started: 0, completed: 0, retried: 0, failed: 0, cancelled: 0, released: 0 };

  constructor(
    private readonly store: Store,
    handlers: Handlers,
    options: WorkerOptions,
    private readonly deps: WorkerDeps,
  ) {
    const o = parseInput(workerOptionsSchema, options ?? {}, 'options');
    if (handlers === null || typeof handlers !== 'object' || Object.keys(handlers).length === 0) {
      throw new ValidationError(['handlers must be an object mapping job names to functions, with at least one entry']);
    }
    for (const [name, fn] of Object.entries(handlers)) {
      parseInput(jobNameSchema, name, `handlers[${JSON.stringify(name)}] name`);
      if (typeof fn !== 'function') throw new ValidationError([`handlers[${JSON.stringify(name)}] must be a function (job, ctx) => result, got ${typeof fn}`]);
    }
    this.handlers = handlers;
    this.names = Object.keys(handlers);
    this.id = o.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.opts = {
      concurrency: o.concurrency ?? 1,
      progressFlushMs: o.progressFlushMs ?? 1_000,
      leaseMs: o.leaseMs ?? 30_000,
      pollMs: o.pollMs ?? 1_000,
      graceMs: o.graceMs ?? 10_000,
      prefetch: o.prefetch ?? 'auto',
    };
  }

  /** Starts claiming and running jobs. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new ValidationError([`worker ${this.id} was already started; create a new one with queue.worker()`]);
    this.state = 'running';
    this.deps.signals.on('runnable', this.onRunnable);
    this.deps.signals.on('cancel', this.onCancel);
    this.deps.signals.on('delete', this.onDelete);
    this.unwatch = this.store.watch(this.onFeed);
    // A third of the lease at most, so two ticks can fail before a lease runs out.
    const tickMs = Math.min(this.opts.progressFlushMs, Math.floor(this.opts.leaseMs / 3));
    this.tickTimer = setInterval(() => void this.tick(), tickMs);
    this.loopDone = this.loop();
  }

  /**
   * Graceful stop: claims nothing more, lets running jobs finish for up to graceMs, then aborts the rest
   * (signal reason 'shutdown') and releases them to pending without spending their attempt.
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
    if (this.state !== 'running' || !this.drained || this.claimInFlight || !this.names.includes(name)) return null;
    if (this.attempts.size + this.buffer.length + this.reserved >= this.opts.concurrency) return null;
    this.reserved++;
    return { workerId: this.id, leaseUntil: this.deps.clock.now() + this.opts.leaseMs };
  }

  /** Takes the job a reservation was for (null: it was not inserted, only free the slot). */
  adopt(job: Job | null): void {
    this.reserved--;
    if (job === null) return;
    this.buffer.push(job); // released at once if the worker is stopping
    this.startBuffered();
    this.nudge();
  }

  /** Counters since start. */
  stats(): WorkerStats & { running: number; idle: boolean } {
    const idle = this.state === 'running' && this.drained && !this.claimInFlight && this.attempts.size + this.buffer.length === 0;
    return { ...this.counters, running: this.attempts.size, idle };
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      this.deps.onStopped(this);
      return;
    }
    this.state = 'stopping';
    this.startBuffered(); // releases prefetched jobs at once, so other workers can take them
    this.nudge();
    if (this.attempts.size > 0) {
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.whenIdle(),
        new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, this.opts.graceMs))),
      ]);
      clearTimeout(graceTimer);
      for (const attempt of this.attempts.values()) {
        attempt.abort(new AttemptAbort('shutdown', `worker ${this.id} stopped before the job finished (graceMs ${this.opts.graceMs})`));
      }
    }
    await this.loopDone;
    clearInterval(this.tickTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.deps.signals.off('runnable', this.onRunnable);
    this.deps.signals.off('cancel', this.onCancel);
    this.deps.signals.off('delete', this.onDelete);
    this.unwatch?.();
    this.state = 'stopped';
    this.deps.onStopped(this);
  }

  /**
   * The claim loop. It claims when the prefetch buffer is at most half full and slots or buffer room are
   * free. On SQLite a claim carries the outcomes waiting so far (one transaction, one commit), and outcomes
   * go alone once FLUSH_BATCH wait or the oldest waited FLUSH_DELAY_MS. On a parallel store (PostgreSQL)
   * outcomes go on their own as soon as no finish is on the wire, so the database completes one batch
   * while it claims the next. At most one claim and one finish are in flight: one or two connections.
   */
  private async loop(): Promise<void> {
    for (;;) {
      const claiming = this.state === 'running';
      const backingOff = performance.now() < this.retryAt;
      const prefetch = this.prefetchSize();
      const room = this.opts.concurrency + prefetch - this.attempts.size - this.buffer.length - this.reserved;
      const wantClaim = claiming && !this.drained && room > 0 && this.buffer.length <= prefetch / 2;
      // In parallel mode outcomes go as soon as no finish is on the wire: those that settle meanwhile
      // make the next batch. Otherwise they wait (briefly) to travel with a claim or with company.
      const wantFlush =
        this.outcomes.length > 0 &&
        (this.store.parallel ||
          !claiming ||
          prefetch === 0 ||
          this.outcomes.length >= FLUSH_BATCH ||
          performance.now() >= this.flushBy);
      if (!backingOff && wantClaim && !this.claimInFlight) {
        const carry = !this.store.parallel && !this.finishInFlight;
        this.claimInFlight = this.claimAndFinish(room, carry ? this.takeOutcomes() : []);
        continue;
      }
      if (!backingOff && wantFlush && !this.finishInFlight) {
        this.finishInFlight = this.finishOnly(this.takeOutcomes());
        continue;
      }
      {
        const inFlight = this.claimInFlight !== undefined || this.finishInFlight !== undefined;
        const settledDown = this.attempts.size === 0 && this.buffer.length === 0 && this.outcomes.length === 0;
        if (this.state === 'stopping' && !inFlight && settledDown) return;
        if (this.state === 'stopping' && this.gaveUp && !inFlight) return;
        const untilFlush = this.outcomes.length > 0 ? Math.max(0, this.flushBy - performance.now()) : undefined;
        const untilRetry = backingOff ? this.retryAt - performance.now() : undefined;
        const poll = claiming && this.drained && !inFlight ? this.opts.pollMs : undefined;
        const waits = [untilFlush, untilRetry, poll].filter((ms): ms is number => ms !== undefined);
        const ms = waits.length > 0 ? Math.min(...waits) : undefined;
        // Only the poll is a reason to claim again; a flush delay or a back-off ending is not.
        await this.sleep(ms, ms !== undefined && ms === poll);
      }
    }
  }

  private takeOutcomes(): Outcome[] {
    const outcomes = this.outcomes;
    this.outcomes = [];
    this.flushBy = Number.POSITIVE_INFINITY;
    return outcomes;
  }

  /** One round trip: write `outcomes`, claim up to `limit` jobs into the buffer. */
  private async claimAndFinish(limit: number, outcomes: Outcome[]): Promise<void> {
    const seq = this.wakeSeq;
    try {
      const { jobs, finished } = await this.store.claim({
        names: this.names,
        limit,
        workerId: this.id,
        leaseMs: this.opts.leaseMs,
        now: this.deps.clock.now(),
        finish: outcomes,
      });
      this.failures = 0;
      this.counters.claims++;
      // A drained worker (its last claim came back short) claims again only when a signal (local add, feed,
      // poll) says there may be work; a wake-up that arrived during this claim wins over its short answer.
      this.drained = jobs.length < limit && this.wakeSeq === seq;
      this.afterFinish(outcomes, finished);
      this.buffer.push(...jobs);
      this.startBuffered();
    } catch (error) {
      this.storeFailed(error, outcomes, 'claim or finish jobs');
    } finally {
      this.claimInFlight = undefined;
      this.nudge();
    }
  }

  /** One round trip: write `outcomes`. */
  private async finishOnly(outcomes: Outcome[]): Promise<void> {
    try {
      const finished = await this.store.finish({ workerId: this.id, now: this.deps.clock.now(), outcomes });
      this.failures = 0;
      this.afterFinish(outcomes, finished);
    } catch (error) {
      this.storeFailed(error, outcomes, 'finish jobs');
    } finally {
      this.finishInFlight = undefined;
      this.nudge();
    }
  }

  /** Keeps unwritten outcomes for the next try and backs off; while stopping, gives up after three tries. */
  private storeFailed(error: unknown, outcomes: Outcome[], what: string): void {
    this.failures++;
    this.outcomes = [...outcomes, ...this.outcomes];
    this.retryAt = performance.now() + Math.min(100 * 2 ** this.failures, 5_000);
    this.deps.logger.error(`worker ${this.id} could not ${what} (attempt ${this.failures}): ${(error as Error).message}`);
    if (this.state === 'stopping' && this.failures >= 3) {
      // The leases run out and another worker runs these jobs again: at-least-once still holds.
      this.deps.logger.error(`worker ${this.id} gave up writing ${this.outcomes.length} outcomes while stopping`);
      this.outcomes = [];
      this.buffer = [];
      this.attempts.clear();
      this.gaveUp = true;
    }
  }

  /** How many claimed jobs to hold beyond the running ones. */
  private prefetchSize(): number {
    if (this.opts.prefetch !== 'auto') return this.opts.prefetch;
    return this.meanRunMs < SHORT_JOB_MS ? Math.max(PREFETCH_SHORT, 2 * this.opts.concurrency) : 0;
  }

  /** Fills free slots from the buffer; while stopping, releases what is buffered instead. */
  private startBuffered(): void {
    if (this.state !== 'running') {
      for (const job of this.buffer.splice(0)) this.settle(job, { id: job.id, status: 'released' });
      return;
    }
    while (this.buffer.length > 0 && this.attempts.size < this.opts.concurrency) this.begin(this.buffer.shift()!);
  }

  /** Starts one claimed job, or settles at once a job that must not run. */
  private begin(job: Job): void {
    if (job.cancelRequested) {
      this.settle(job, { id: job.id, status: 'cancelled', error: 'cancelled while its worker was gone' });
      return;
    }
    if (job.attempts > job.maxAttempts) {
      const error = `its worker stopped during the last of ${job.maxAttempts} attempts (lease expired)`;
      this.settle(job, { id: job.id, status: 'failed', error, errorStack: null });
      return;
    }
    const attempt = new Attempt(job);
    this.attempts.set(job.id, attempt);
    this.counters.started++;
    this.deps.events.emit('started', job);
    const ctx: JobContext = {
      get signal() {
        return attempt.signal;
      },
      attempt: job.attempts,
      workerId: this.id,
      progress: (value) => this.recordProgress(attempt, value),
    };
    const handler = this.handlers[job.name] as Handler;
    const began = performance.now();
    void attempt.run(handler, ctx).then((settlement) => {
      this.attempts.delete(job.id);
      const ran = performance.now() - began;
      this.meanRunMs = Number.isFinite(this.meanRunMs) ? this.meanRunMs * 0.9 + ran * 0.1 : ran;
      const progressJson = attempt.dirtyProgress ?? attempt.sendingProgress;
      const outcome = decideOutcome(job, settlement, progressJson, this.deps.clock, undefined, this.deps.maxPayloadBytes);
      if (outcome) this.settle(job, outcome);
      this.startBuffered();
      if (this.attempts.size === 0) this.idle?.resolve();
      this.nudge();
    });
  }

  private settle(job: Job, outcome: Outcome): void {
    if (this.outcomes.length === 0) this.flushBy = performance.now() + FLUSH_DELAY_MS;
    this.outcomes.push(outcome);
    this.finishing.set(job.id, { job, outcome });
    this.nudge();
  }

  private recordProgress(attempt: Attempt, value: unknown): void {
    if (!this.attempts.has(attempt.job.id)) return;
    attempt.dirtyProgress = toJsonText(value, 'progress', this.deps.maxPayloadBytes);
    attempt.job.progress = value;
    if (this.deps.events.has('progress')) this.deps.events.emit('progress', { ...attempt.job });
  }

  /** Emits the events of outcomes that were written, and schedules a local wake for retries. */
  private afterFinish(outcomes: Outcome[], finished: string[]): void {
    const applied = new Set(finished);
    for (const outcome of outcomes) {
      const entry = this.finishing.get(outcome.id);
      this.finishing.delete(outcome.id);
      if (!entry || !applied.has(outcome.id)) continue;
      this.count(outcome);
      if (outcome.status === 'retry') this.wakeAt(outcome.runAt);
      const type = EVENT_OF[outcome.status];
      if (type && this.deps.events.has(type)) this.deps.events.emit(type, finishedSnapshot(entry.job, outcome, this.deps.clock.now()));
    }
  }

  private count(outcome: Outcome): void {
    const key = ({ completed: 'completed', retry: 'retried', failed: 'failed', cancelled: 'cancelled', released: 'released' } as const)[outcome.status];
    this.counters[key]++;
  }

  /** One statement for all running jobs: extend leases, write changed progress, learn cancels and losses. */
  private async tick(): Promise<void> {
    if (this.ticking || this.attempts.size + this.buffer.length === 0) return;
    this.ticking = true;
    const attempts = [...this.attempts.values()];
    const buffered = this.buffer.map((job) => job.id);
    const progress = attempts.flatMap((a) => (a.dirtyProgress === undefined ? [] : [{ id: a.job.id, json: a.dirtyProgress }]));
    for (const a of attempts) {
      if (a.dirtyProgress !== undefined) a.sendingProgress = a.dirtyProgress;
      a.dirtyProgress = undefined;
    }
    try {
      const { cancelled, lost } = await this.store.tick({
        workerId: this.id,
        leaseMs: this.opts.leaseMs,
        now: this.deps.clock.now(),
        running: [...attempts.map((a) => a.job.id), ...buffered],
        progress,
      });
      this.counters.ticks++;
      for (const a of attempts) a.sendingProgress = undefined;
      for (const id of cancelled) this.onCancel(id);
      for (const id of lost) this.onDelete(id);
    } catch (error) {
      // Keep the progress for the next tick, unless newer progress arrived meanwhile.
      const sent = new Map(progress.map((p) => [p.id, p.json]));
      for (const a of attempts) {
        if (a.dirtyProgress === undefined && sent.has(a.job.id)) a.dirtyProgress = sent.get(a.job.id);
        a.sendingProgress = undefined;
      }
      this.deps.logger.warn(`worker ${this.id} tick failed; leases are extended at the next one: ${(error as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private readonly onRunnable = (runAt: number): void => {
    if (this.state !== 'running') return;
    if (runAt <= this.deps.clock.now()) this.lookForWork();
    else this.wakeAt(runAt);
  };

  /** Another process added or retried jobs (or, on SQLite, committed anything): look for work now. */
  private readonly onFeed = (events: FeedEvent[]): void => {
    for (const event of events) {
      if (event.type === 'external') this.onRunnable(this.deps.clock.now());
      else if ((event.type === 'added' || event.type === 'retrying') && event.names.some((n) => this.names.includes(n))) {
        this.onRunnable(event.runAt ?? this.deps.clock.now());
      }
    }
  };

  private readonly onCancel = (id: string): void => {
    const held = this.unbuffer(id);
    if (held) this.settle(held, { id, status: 'cancelled', error: 'cancelled by request' });
    this.attempts.get(id)?.abort(new AttemptAbort('cancelled', 'cancelled by request'));
  };

  private readonly onDelete = (id: string): void => {
    this.unbuffer(id);
    this.attempts.get(id)?.abort(new AttemptAbort('lost', 'the job was deleted or taken over by another worker (lease lost)'));
  };

  /** Removes a job from the prefetch buffer; returns it if it was there. */
  private unbuffer(id: string): Job | undefined {
    const index = this.buffer.findIndex((job) => job.id === id);
    return index < 0 ? undefined : this.buffer.splice(index, 1)[0];
  }

  private wakeAt(runAt: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.lookForWork();
    }, Math.max(0, runAt - this.deps.clock.now()));
    this.timers.add(timer);
  }

  /** There may be runnable jobs: claim again, even if the last claim came back short. */
  private lookForWork(): void {
    this.wakeSeq++;
    this.drained = false;
    this.nudge();
  }

  /** Wakes the loop; completions settling in the same turn are written together. */
  private nudge(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    if (wake) setImmediate(wake);
  }

  /** Waits for a nudge, or `ms`; a poll that runs out is a reason to look for work (other processes, due jobs). */
  private sleep(ms: number | undefined, isPoll = false): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.wakeUp = undefined;
          if (isPoll) this.lookForWork();
          resolve();
        }, ms);
      }
    });
  }

  private whenIdle(): Promise<void> {
    if (this.attempts.size === 0) return Promise.resolve();
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve: () => { this.idle = undefined; resolve(); } };
    }
    return this.idle.promise;
  }
}

function finishedSnapshot(job: Job, outcome: Outcome, now: number): Job {
  const progress = outcome.progressJson !== undefined ? JSON.parse(outcome.progressJson) : job.progress;
  const snapshot: Job = { ...job, progress, leaseUntil: null, cancelRequested: false };
  switch (outcome.status) {
    case 'completed':
      return { ...snapshot, status: 'completed', result: JSON.parse(outcome.resultJson), completedAt: new Date(now) };
    case 'retry':
      return { ...snapshot, status: 'pending', runAt: new Date(outcome.runAt), error: outcome.error, errorStack: outcome.errorStack };
    case 'failed':
      return { ...snapshot, status: 'failed', error: outcome.error, errorStack: outcome.errorStack, completedAt: new Date(now) };
    case 'cancelled':
      return { ...snapshot, status: 'cancelled', error: outcome.error, completedAt: new Date(now) };
    case 'released':
      return { ...snapshot, status: 'pending', attempts: job.attempts - 1 };
  }
}
