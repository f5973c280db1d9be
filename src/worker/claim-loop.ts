import type { Clock } from '../clock.ts';
import { StoreError } from '../errors.ts';
import type { FaultReporter } from '../fault-reporter.ts';
import type { Logger } from '../logger.ts';
import type { Outcome, Store } from '../store/store.ts';
import type { HeldJobs } from './held-jobs.ts';
import type { NameSplit } from './name-split.ts';
import type { JobRunner } from './job-runner.ts';
import { FLUSH_BATCH, MAX_UNCONFIRMED, type OutcomeBatcher } from './outcome-batcher.ts';
import type { Waker } from './waker.ts';
import type { WorkerConfig } from './worker-options.ts';
import type { WorkerStats } from './worker-stats.ts';

/**
 * How far ahead a worker claims: the jobs it can start within this window at its measured job time. Two
 * workers of concurrency 4 over 300 jobs of 20 ms then hold 4 + 5 each (5 ms jobs: 4 + 20), so the second
 * worker to wake gets its share: 150 / 150 and 152 / 148 where a fixed prefetch of 400 for jobs under 20 ms
 * let the first take nearly all (4 / 296 on PostgreSQL, 300 / 0 on SQLite; test/fair-share.test.ts). A
 * 50 ms window still split 5 ms jobs 198 / 102 on SQLite. No-op jobs claim and complete PREFETCH_MAX at a time.
 */
const PREFETCH_WINDOW_MS = 25;
/**
 * Claimed jobs a worker holds at most beyond its running ones. Store-only cycle of claim + finish per
 * transaction: batches of 100 → 74.8k jobs/s, 200 → 81.9k, 500 → 92.0k (.tmp/cycle.ts).
 */
const PREFETCH_MAX = 400;

/** What the claim loop needs from its worker. */
export interface ClaimLoopDeps {
  config: WorkerConfig;
  clock: Clock;
  logger: Logger;
  stats: WorkerStats;
  /** Where store failures are reported: once per streak, not once per retry. */
  health: FaultReporter;
  /** False once the worker stops: it claims nothing more, writes what is left and returns. */
  isRunning(): boolean;
  /** Its names split into plain and limited ones (flow control). */
  split: NameSplit;
  /** A schedule of this worker's names fires at `at` (read with the next due time). */
  onScheduleDue?: (at: number) => void;
}

/**
 * The claim loop: the one place a worker claims jobs and writes outcomes. It claims when the prefetch buffer
 * is at most half full and slots or buffer room are free. On SQLite a claim carries the outcomes waiting so
 * far (one transaction, one commit), and outcomes go alone once FLUSH_BATCH wait or the oldest waited its
 * flush delay. On a parallel store (PostgreSQL) outcomes go on their own as soon as no finish is on the wire,
 * so the database completes one batch while it claims the next. At most one claim and one finish are in
 * flight (with the ticker's tick, three statements per worker at most).
 *
 * A drained worker (its last claim came back short) claims again only when there may be work: a local add
 * or retry, the change feed, a poll, or a delayed job coming due (lookForWork, wakeAt).
 */
export class ClaimLoop {
  private drained = false;
  /** Bumped by every reason to look for work; a claim that came back short marks the worker drained only if none arrived while it ran. */
  private wakeSeq = 0;
  private claimInFlight: Promise<void> | undefined;
  private finishInFlight: Promise<void> | undefined;
  /** Consecutive failed store calls, and when the next may be tried (performance.now() ms). */
  private failures = 0;
  private retryAt = 0;
  private gaveUp = false;
  /** The due time a wake-up is set for by learnNextDue (one at a time, the earliest). */
  private dueTimerAt = Number.POSITIVE_INFINITY;
  /** The next due time may have changed without this worker being told when: read it after the next short claim. */
  private needDue = true;

  constructor(
    private readonly store: Store,
    private readonly held: HeldJobs,
    private readonly batcher: OutcomeBatcher,
    private readonly runner: JobRunner,
    private readonly waker: Waker,
    private readonly deps: ClaimLoopDeps,
  ) {}

  /** Drained and no claim on the wire: a job added now would wait for nothing else of higher priority. */
  get idle(): boolean {
    return this.drained && !this.claimInFlight;
  }

  /** There may be runnable jobs: claim again, even if the last claim came back short. */
  lookForWork(): void {
    this.wakeSeq++;
    this.drained = false;
    this.waker.nudge();
  }

  /**
   * Another process committed jobs whose runAt this worker does not fully know (SQLite's feed says only that
   * something changed; PostgreSQL's gives a batch's earliest runAt): after the next short claim, read when the
   * next job comes due.
   */
  dueUnknown(): void {
    this.needDue = true;
  }

  /** Looks for work at `runAt` (a delayed job or a retry coming due). */
  wakeAt(runAt: number): void {
    this.waker.after(runAt - this.deps.clock.now(), () => {
      // A timer may end a few ms before the clock reaches runAt (libuv measures from its cached loop time, which
      // lags under load): then the claim finds nothing yet. Re-reading the next due time after it re-arms the
      // wake-up instead of leaving the job to the next poll (seen on PostgreSQL under load: a minute late).
      this.needDue = true;
      this.lookForWork();
    });
  }

  /** Runs until the worker stops and everything it held is written (or given up on). */
  async run(): Promise<void> {
    const { held, batcher, store } = this;
    const { settings } = this.deps.config;
    for (;;) {
      const claiming = this.deps.isRunning();
      const backingOff = performance.now() < this.retryAt;
      const prefetch = this.prefetchSize();
      const room = settings.concurrency + prefetch - held.size;
      // Claims pause while too many outcomes wait unwritten: a crash would run all of them again.
      const wantClaim = claiming && !this.drained && room > 0 && held.buffer.length <= prefetch / 2 && batcher.unconfirmed < MAX_UNCONFIRMED;
      // In parallel mode outcomes go as soon as no finish is on the wire: those that settle meanwhile
      // make the next batch. Otherwise they wait (briefly) to travel with a claim or with company.
      const wantFlush =
        batcher.waiting > 0 &&
        (store.parallel || !claiming || prefetch === 0 || batcher.waiting >= FLUSH_BATCH || performance.now() >= batcher.flushBy);
      // Parts of a refused batch go first, alone (never carried by a claim), until the refused outcome is found.
      if (!backingOff && batcher.suspect > 0 && !this.finishInFlight) {
        this.finishInFlight = this.finishOnly(batcher.takeSuspect());
        continue;
      }
      if (!backingOff && wantClaim && !this.claimInFlight) {
        const carry = !store.parallel && !this.finishInFlight;
        this.claimInFlight = this.claimAndFinish(room, carry ? batcher.take() : []);
        continue;
      }
      if (!backingOff && wantFlush && !this.finishInFlight) {
        this.finishInFlight = this.finishOnly(batcher.take());
        continue;
      }
      const inFlight = this.claimInFlight !== undefined || this.finishInFlight !== undefined;
      // Reserved slots count: a job an add() is handing over may still arrive, already claimed by this worker,
      // and must be released (written) before the loop ends, or it would stay running under a stopped worker.
      const settledDown = held.size === 0 && batcher.waiting === 0 && batcher.suspect === 0;
      if (!claiming && !inFlight && (settledDown || this.gaveUp)) return;
      const untilFlush = batcher.waiting > 0 ? Math.max(0, batcher.flushBy - performance.now()) : undefined;
      const untilRetry = backingOff ? this.retryAt - performance.now() : undefined;
      const poll = claiming && this.drained && !inFlight ? settings.pollMs : undefined;
      const waits = [untilFlush, untilRetry, poll].filter((ms): ms is number => ms !== undefined);
      const ms = waits.length > 0 ? Math.min(...waits) : undefined;
      // Only the poll is a reason to claim again; a flush delay or a back-off ending is not.
      await this.waker.sleep(ms, ms !== undefined && ms === poll ? () => this.lookForWork() : undefined);
    }
  }

  /** One round trip: write `outcomes`, claim up to `limit` jobs into the buffer. */
  private async claimAndFinish(limit: number, outcomes: Outcome[]): Promise<void> {
    const seq = this.wakeSeq;
    const { config, clock, stats } = this.deps;
    try {
      const { plain, limited } = this.deps.split;
      const claimedAt = clock.now();
      const { jobs, retryAt, ...written } = await this.store.claim({
        names: plain,
        ...(limited.length > 0 ? { limited } : {}),
        limit,
        workerId: config.id,
        leaseMs: config.settings.leaseMs,
        now: claimedAt,
        finish: outcomes,
      });
      this.failures = 0;
      this.deps.health.succeeded('claim');
      if (outcomes.length > 0) this.deps.health.succeeded('finish');
      stats.claims++;
      // A wake-up that arrived during this claim wins over its short answer.
      this.drained = jobs.length < limit && this.wakeSeq === seq;
      this.batcher.written(outcomes, written);
      this.held.buffer.push(...jobs);
      this.runner.startBuffered();
      // A rate limit held jobs back: claim again when it allows; a finish may have freed a limited slot.
      if (retryAt !== undefined) this.wakeAt(retryAt);
      if (limited.length > 0 && outcomes.length > 0) this.lookForWork();
      // Only when the next due time may have changed unseen (see dueUnknown): not one more read per short claim.
      if (this.drained && this.needDue && this.deps.isRunning()) {
        this.needDue = false;
        await this.learnNextDue(claimedAt);
      }
    } catch (error) {
      this.storeFailed(error, outcomes, 'claim or finish jobs');
    } finally {
      this.claimInFlight = undefined;
      this.waker.nudge();
    }
  }

  /**
   * After a short claim, when the next due time may have changed unseen (at start, after a due wake-up, after a
   * feed event without runAt): one indexed read of when the next pending job of this worker's names comes due (a
   * delayed job, or a retry, added by any process), and a wake-up set for then when that is sooner than the
   * next poll. So a delayed job starts on time on an idle worker, not up to pollMs late. It runs while the claim
   * still counts as in flight, so the worker is not idle (no handoff is offered) until it is done. The same read
   * tells the schedule firer when the names' next schedule fires (so it needs no read of its own at start).
   */
  private async learnNextDue(claimedAt: number): Promise<void> {
    const { config, clock } = this.deps;
    let at: number | null;
    try {
      // Due after the claim's own `now`, not after this read's: a job that came due while the claim was on the
      // wire (or that a timer ending a few ms early left behind) is then still seen, and claimed at once. With
      // the read's time it fell between the two and waited for the poll (PostgreSQL under load: a minute).
      const next = await this.store.nextDueAt({ names: config.names, now: claimedAt });
      at = next.job;
      if (next.schedule !== null) this.deps.onScheduleDue?.(next.schedule);
    } catch {
      return; // The poll still finds the job; a failing store is reported by the claims.
    }
    if (at === null) return;
    const ms = at - clock.now();
    if (ms > config.settings.pollMs || at >= this.dueTimerAt) return;
    this.dueTimerAt = at;
    this.waker.after(ms, () => {
      if (this.dueTimerAt === at) this.dueTimerAt = Number.POSITIVE_INFINITY;
      // Jobs due later than this one were not read: read again after this claim.
      this.needDue = true;
      this.lookForWork();
    });
  }

  /** One round trip: write `outcomes`. */
  private async finishOnly(outcomes: Outcome[]): Promise<void> {
    try {
      const written = await this.store.finish({ workerId: this.deps.config.id, now: this.deps.clock.now(), outcomes });
      this.failures = 0;
      this.deps.health.succeeded('finish');
      this.batcher.written(outcomes, written);
      // Slots of a limited name may be free again, here or in another worker's claim.
      if (this.deps.split.limited.length > 0) this.lookForWork();
    } catch (error) {
      this.storeFailed(error, outcomes, 'finish jobs');
    } finally {
      this.finishInFlight = undefined;
      this.waker.nudge();
    }
  }

  /**
   * A store call failed. If the database refused the outcomes it carried (StoreError.retryable false), they
   * are narrowed down at once to the one it refuses, so one bad outcome never blocks its batch. Otherwise
   * they are kept for the next try after a back-off; while stopping, the worker gives up after three tries.
   */
  private storeFailed(error: unknown, outcomes: Outcome[], what: string): void {
    const { config, logger } = this.deps;
    if (error instanceof StoreError && !error.retryable && outcomes.length > 0) return this.isolate(error, outcomes);
    this.failures++;
    this.batcher.putBack(outcomes);
    this.retryAt = performance.now() + Math.min(100 * 2 ** this.failures, 5_000);
    // Keys tell the calls apart: a claim going through says nothing of a finish that keeps failing.
    this.deps.health.failed(what === 'finish jobs' ? 'finish' : 'claim', what, error);
    if (!this.deps.isRunning() && this.failures >= 3) {
      // The leases run out and another worker runs these jobs again: at-least-once still holds.
      logger.error(`worker ${config.id} gave up writing ${this.batcher.waiting} outcomes while stopping`);
      this.batcher.dropAll();
      this.held.buffer = [];
      this.held.attempts.clear();
      this.gaveUp = true;
    }
  }

  /** Splits a refused batch in halves, or, for a single refused outcome, falls back to its plain form. */
  private isolate(error: StoreError, outcomes: Outcome[]): void {
    const { config, logger } = this.deps;
    const reason = ((error.cause as Error | undefined)?.message ?? error.message).slice(0, 500);
    if (outcomes.length > 1) {
      // One line per refused batch: its halves, refused in turn, are narrowed down quietly.
      if (this.batcher.suspect === 0) {
        logger.error(`worker ${config.id}: the database refused a batch of ${outcomes.length} outcomes (${reason}); writing it in halves to find the one it refuses`);
      }
      this.batcher.isolate(outcomes);
      return;
    }
    const outcome = outcomes[0]!;
    const plain = this.batcher.lastResort(outcome, reason);
    if (plain) {
      logger.error(`worker ${config.id}: the database refused the outcome of job ${outcome.id} (${outcome.status}: ${reason}); storing it as ${plain.status}, without the handler's result, progress or error text`);
    } else {
      logger.error(`worker ${config.id}: the database refused even the plain outcome of job ${outcome.id} (${reason}); leaving it: its lease runs out and it runs again, up to maxAttempts`);
    }
  }

  /**
   * How many claimed jobs to hold beyond the running ones: what the slots start within PREFETCH_WINDOW_MS at
   * the mean job time measured so far (none before the first job ends), at most max(PREFETCH_MAX, 2 × slots).
   */
  private prefetchSize(): number {
    const { prefetch, concurrency } = this.deps.config.settings;
    if (prefetch !== 'auto') return prefetch;
    const mean = this.runner.meanRunMs;
    if (!Number.isFinite(mean)) return 0;
    const cap = Math.max(PREFETCH_MAX, 2 * concurrency);
    return mean <= 0 ? cap : Math.min(cap, Math.floor((concurrency * PREFETCH_WINDOW_MS) / mean));
  }
}
