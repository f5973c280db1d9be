import type { Clock } from '../clock.ts';
import type { QueueEvents, QueueEventType } from '../events.ts';
import { ERRORS_KEPT, type Job } from '../job.ts';
import type { Outcome } from '../store/store.ts';
import { countOutcome, type WorkerStats } from './worker-stats.ts';

/** Outcomes written together at most. Store-only claim + finish cycle: batches of 100 → 74.8k jobs/s, 200 → 81.9k, 500 → 92.0k (.tmp/cycle.ts). */
export const FLUSH_BATCH = 400;
/** How long the oldest unwritten outcome may wait for company (ms). */
const FLUSH_DELAY_MS = 5;

const EVENT_OF: Partial<Record<Outcome['status'], QueueEventType>> = {
  completed: 'completed',
  retry: 'retrying',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** What the batcher needs from its worker. */
export interface OutcomeBatcherDeps {
  clock: Clock;
  events: QueueEvents;
  stats: WorkerStats;
  /** A retry was written: the job runs again at `runAt`. */
  onRetry(runAt: number): void;
  /** An outcome is waiting: wake the claim loop. */
  nudge(): void;
}

/**
 * Outcomes of finished attempts waiting to be written, in the order they settled. The claim loop takes them
 * as one batch (one statement, or carried by a claim); once the store says which it applied, the batcher
 * counts them and emits their events. Nothing here touches the database.
 */
export class OutcomeBatcher {
  private outcomes: Outcome[] = [];
  /** Every outcome not yet confirmed, with its job: the events need the job. */
  private readonly finishing = new Map<string, { job: Job; outcome: Outcome }>();
  /** When the oldest unwritten outcome must be written by (performance.now() ms). */
  flushBy = Number.POSITIVE_INFINITY;

  constructor(private readonly deps: OutcomeBatcherDeps) {}

  /** Outcomes waiting to be taken. */
  get waiting(): number {
    return this.outcomes.length;
  }

  /** Queues the outcome of `job`; the oldest waits at most FLUSH_DELAY_MS for company. */
  add(job: Job, outcome: Outcome): void {
    if (this.outcomes.length === 0) this.flushBy = performance.now() + FLUSH_DELAY_MS;
    this.outcomes.push(outcome);
    this.finishing.set(job.id, { job, outcome });
    this.deps.nudge();
  }

  /** Takes every waiting outcome, to write as one batch. */
  take(): Outcome[] {
    const outcomes = this.outcomes;
    this.outcomes = [];
    this.flushBy = Number.POSITIVE_INFINITY;
    return outcomes;
  }

  /** Puts back, in front, the outcomes of a write that failed, for the next try. */
  putBack(outcomes: Outcome[]): void {
    this.outcomes = [...outcomes, ...this.outcomes];
  }

  /** Forgets every waiting outcome (the worker gave up writing them); returns how many there were. */
  dropAll(): number {
    const dropped = this.outcomes.length;
    this.outcomes = [];
    return dropped;
  }

  /** A batch was written and the store applied `finished` (the jobs still held): count them and emit their events. */
  written(outcomes: Outcome[], finished: string[]): void {
    const applied = new Set(finished);
    for (const outcome of outcomes) {
      const entry = this.finishing.get(outcome.id);
      this.finishing.delete(outcome.id);
      if (!entry || !applied.has(outcome.id)) continue;
      countOutcome(this.deps.stats, outcome);
      if (outcome.status === 'retry') this.deps.onRetry(outcome.runAt);
      const type = EVENT_OF[outcome.status];
      const events = this.deps.events;
      if (type && events.has(type)) events.emit(type, finishedSnapshot(entry.job, outcome, this.deps.clock.now()));
    }
  }
}

/** The job as it is after `outcome`, for the event, without reading it back. */
function finishedSnapshot(job: Job, outcome: Outcome, now: number): Job {
  const progress = outcome.progressJson !== undefined ? JSON.parse(outcome.progressJson) : job.progress;
  const snapshot: Job = { ...job, progress, leaseUntil: null, cancelRequested: false };
  switch (outcome.status) {
    case 'completed':
      return { ...snapshot, status: 'completed', result: JSON.parse(outcome.resultJson), completedAt: new Date(now) };
    case 'retry':
      return { ...snapshot, status: 'pending', runAt: new Date(outcome.runAt), error: outcome.error, errorStack: outcome.errorStack, errors: withError(job, outcome.error, outcome.errorStack, now) };
    case 'failed':
      return {
        ...snapshot, status: 'failed', error: outcome.error, errorStack: outcome.errorStack, completedAt: new Date(now),
        errors: withError(job, outcome.error, outcome.errorStack, now),
      };
    case 'cancelled':
      return { ...snapshot, status: 'cancelled', error: outcome.error, completedAt: new Date(now) };
    case 'released':
      return { ...snapshot, status: 'pending', attempts: job.attempts - 1 };
  }
}

/** The job's attempt history with this attempt's failure appended, as the store writes it. */
function withError(job: Job, message: string, stack: string | null, now: number): Job['errors'] {
  const entry = { attempt: Math.min(job.attempts, job.maxAttempts), at: new Date(now), message, stack, workerId: job.processingBy };
  return [...job.errors, entry].slice(-ERRORS_KEPT);
}
