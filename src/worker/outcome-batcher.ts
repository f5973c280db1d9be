import type { Clock } from '../clock.ts';
import type { QueueEvents, QueueEventType } from '../events.ts';
import { ERRORS_KEPT, type Job } from '../job.ts';
import type { FinishResult, Outcome } from '../store/store.ts';
import { storableText } from '../storable-text.ts';
import { countOutcome, type WorkerStats } from './worker-stats.ts';

/** Outcomes written together at most. Store-only claim + finish cycle: batches of 100 → 74.8k jobs/s, 200 → 81.9k, 500 → 92.0k (.tmp/cycle.ts). */
export const FLUSH_BATCH = 400;
/** How long the oldest unwritten outcome may wait for company (ms). */
export const FLUSH_DELAY_MS = 5;
/**
 * Outcomes a worker may hold unwritten (waiting or on the wire) before it stops claiming: the bound on the
 * jobs that run again after a crash although their handlers had returned. Normally a batch window holds far
 * fewer (5 ms of completions, at most FLUSH_BATCH); this binds only when writes stall while claims go on.
 */
export const MAX_UNCONFIRMED = 1_000;

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
  /** The batch finished the last children of flows: their parents are runnable now (in this process's workers too). */
  onParentsReady(): void;
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
  /**
   * Parts of a batch the database refused, to write alone, halving each refused part until the outcome it
   * refuses is found: its neighbours are then written, and it is replaced by its plain form (lastResort()).
   */
  private suspects: Outcome[][] = [];
  /** Ids whose outcome was already replaced by its plain form. */
  private readonly plain = new Set<string>();

  constructor(private readonly deps: OutcomeBatcherDeps) {}

  /** Outcomes waiting to be taken. */
  get waiting(): number {
    return this.outcomes.length;
  }

  /** Outcomes not yet confirmed written: waiting, on the wire, or being narrowed down after a refusal. */
  get unconfirmed(): number {
    return this.finishing.size;
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

  /** Puts back, in front, the outcomes of a write that failed, due at once for the next try. */
  putBack(outcomes: Outcome[]): void {
    this.outcomes = [...outcomes, ...this.outcomes];
    // Due now, not "with the next claim": a worker that claims nothing (drained, or stopping) must still write them.
    if (this.outcomes.length > 0) this.flushBy = Math.min(this.flushBy, performance.now());
  }

  /** Forgets every waiting outcome (the worker gave up writing them); returns how many there were. */
  dropAll(): number {
    const dropped = this.outcomes.length + this.suspects.reduce((n, part) => n + part.length, 0);
    this.outcomes = [];
    this.suspects = [];
    return dropped;
  }

  /** Outcomes waiting in refused parts of batches, to be written alone. */
  get suspect(): number {
    return this.suspects.length;
  }

  /** The database refused `outcomes` together: queue their two halves, to be written alone, first. */
  isolate(outcomes: Outcome[]): void {
    const half = Math.ceil(outcomes.length / 2);
    this.suspects.unshift(outcomes.slice(0, half), outcomes.slice(half));
  }

  /** The next refused part to write alone. */
  takeSuspect(): Outcome[] {
    return this.suspects.shift() ?? [];
  }

  /**
   * The database refused this one outcome: queue its plain form (no result, progress or error text of the
   * handler's, only `reason`) to write alone; a completion becomes a failure, since its result is lost.
   * Returns the plain outcome, or null when it was plain already (then nothing more can be done).
   */
  lastResort(outcome: Outcome, reason: string): Outcome | null {
    if (this.plain.has(outcome.id)) {
      this.plain.delete(outcome.id);
      this.finishing.delete(outcome.id);
      return null;
    }
    this.plain.add(outcome.id);
    const error = storableText(`Spool could not store the outcome of this attempt (${outcome.status}): ${reason}`).slice(0, 2_000);
    const plain: Outcome =
      outcome.status === 'completed' || outcome.status === 'failed' ? { id: outcome.id, status: 'failed', error, errorStack: null }
      : outcome.status === 'retry' ? { id: outcome.id, status: 'retry', runAt: outcome.runAt, error, errorStack: null }
      : outcome.status === 'cancelled' ? { id: outcome.id, status: 'cancelled', error }
      : { id: outcome.id, status: 'released' };
    this.suspects.unshift([plain]);
    return plain;
  }

  /**
   * A batch was written: count and announce what the store applied (the jobs still held), as it applied it —
   * a retry or release the store turned into a cancel (one had been requested) is announced as cancelled.
   */
  written(outcomes: Outcome[], result: FinishResult): void {
    if (result.parentsReady) this.deps.onParentsReady();
    const applied = new Set(result.finished);
    const cancelled = new Set(result.cancelled);
    for (const sent of outcomes) {
      const entry = this.finishing.get(sent.id);
      this.finishing.delete(sent.id);
      this.plain.delete(sent.id);
      if (!entry || !applied.has(sent.id)) continue;
      const outcome = cancelled.has(sent.id) ? cancelledInstead(sent) : sent;
      countOutcome(this.deps.stats, outcome);
      if (outcome.status === 'retry') this.deps.onRetry(outcome.runAt);
      const type = EVENT_OF[outcome.status];
      const events = this.deps.events;
      if (type && events.has(type)) events.emit(type, finishedSnapshot(entry.job, outcome, this.deps.clock.now()));
    }
  }
}

/** What the store wrote for a retry or release of a job whose cancel was requested meanwhile. */
function cancelledInstead(outcome: Outcome): Outcome {
  const error = outcome.status === 'retry' ? outcome.error : 'cancelled by request';
  return { id: outcome.id, status: 'cancelled', error, ...(outcome.progressJson !== undefined ? { progressJson: outcome.progressJson } : {}) };
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
