import type { Clock } from '../clock.ts';
import type { FaultReporter } from '../fault-reporter.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { BackgroundSlot } from '../worker/background-slot.ts';
import { planFire } from './fire-plan.ts';

/** Due schedules read per pass; a pass that finds this many goes again at once. */
const DUE_BATCH = 100;

/** What a worker's schedule firer needs. */
export interface FirerDeps {
  store: Store;
  /** The job names this worker runs: it fires the schedules of these names. */
  names: string[];
  clock: Clock;
  logger: Logger;
  health: FaultReporter;
  /** Longest sleep between two reads of the schedules (other processes may add or change them). */
  pollMs: number;
  /** Taken for each pass: the worker's background statements go one at a time. */
  slot: BackgroundSlot;
  /** Jobs were added by a fire, runnable from `runAt`. */
  onFired: (runAt: number) => void;
}

/**
 * Fires due schedules from inside a worker, with no leader: every worker of a schedule's name may fire it,
 * and the compare-and-set of the schedule's watermark (Store.schedulesFire) lets exactly one of them add the
 * jobs of each fire time. Per pass: ONE read (due schedules and the next due time, an index range), and,
 * only when some are due, ONE short transaction for all of them. Between passes it sleeps until the next
 * due time (punctual fires), at most pollMs, or until poke() (a schedule declared or resumed in this process).
 */
export class ScheduleFirer {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** When the current sleep ends (clock ms). */
  private wakeTime = Number.POSITIVE_INFINITY;
  private done: Promise<void> = Promise.resolve();
  private failures = 0;
  /** The earliest wakeBy() that arrived during a pass (when there was no sleep to shorten). */
  private pendingAt = Number.POSITIVE_INFINITY;

  constructor(private readonly deps: FirerDeps) {}

  /**
   * Starts the loop. Its first read waits for pollMs, or for wakeBy(): the claim loop's first next-due read
   * (after the worker's first claim) says when the names' next schedule fires, so a starting worker sends its
   * claim first and no extra statement alongside it.
   */
  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  /** Read the schedules again now. */
  poke(): void {
    this.wakeBy(Number.NEGATIVE_INFINITY);
  }

  /** A schedule comes due at `at`: make sure a pass runs by then. */
  wakeBy(at: number): void {
    if (!this.wake) {
      this.pendingAt = Math.min(this.pendingAt, at);
      return;
    }
    if (at >= this.wakeTime) return;
    clearTimeout(this.timer);
    const wake = this.wake;
    const ms = at - this.deps.clock.now() + 1;
    if (ms <= 0) {
      this.wake = undefined;
      wake();
      return;
    }
    this.wakeTime = at;
    this.timer = setTimeout(() => {
      this.wake = undefined;
      wake();
    }, ms);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.done;
  }

  private async loop(): Promise<void> {
    let waitMs = this.deps.pollMs;
    while (this.running) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.wakeTime = this.deps.clock.now() + waitMs;
        this.timer = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, waitMs);
      });
      this.wakeTime = Number.POSITIVE_INFINITY;
      if (!this.running) return;
      try {
        waitMs = await this.deps.slot.run(() => this.pass());
        this.failures = 0;
        this.deps.health.succeeded('schedules');
      } catch (error) {
        this.failures++;
        this.deps.health.failed('schedules', 'fire schedules', error, { retried: true });
        waitMs = Math.min(100 * 2 ** this.failures, this.deps.pollMs);
      }
      if (this.pendingAt !== Number.POSITIVE_INFINITY) {
        waitMs = Math.max(0, Math.min(waitMs, this.pendingAt - this.deps.clock.now() + 1));
        this.pendingAt = Number.POSITIVE_INFINITY;
      }
    }
  }

  /** One pass; returns how long to sleep. */
  private async pass(): Promise<number> {
    const { store, names, clock, pollMs } = this.deps;
    const now = clock.now();
    const read = await store.schedulesDue({ names, now, limit: DUE_BATCH });
    const { due } = read;
    let nextAt = read.nextAt;
    if (due.length > 0) {
      const plans = due.map((row) => planFire(row, now)).filter((p) => p !== null);
      if (plans.length > 0) {
        const { fired, jobIds } = await store.schedulesFire({ fires: plans.map((p) => p.fire), now });
        const won = new Set(fired);
        let earliest = Number.POSITIVE_INFINITY;
        for (const { fire, dropped } of plans) {
          // Lost the compare-and-set: another process fired it; its next time is read on the next pass.
          if (!won.has(fire.key)) {
            nextAt = Math.min(nextAt ?? Number.POSITIVE_INFINITY, now + 10);
            continue;
          }
          if (fire.nextRunAt !== null) nextAt = Math.min(nextAt ?? Number.POSITIVE_INFINITY, fire.nextRunAt);
          for (const job of fire.jobs) earliest = Math.min(earliest, job.runAt);
          if (dropped > 0) this.deps.logger.warn(`schedule ${fire.key}: ${dropped} missed fire(s) not run (missed policy)`, { key: fire.key });
        }
        if (jobIds.length > 0) this.deps.onFired(earliest);
        // A schedule with more on-time fires than one pass adds is still due: go on at once.
        if (plans.some(({ fire }) => won.has(fire.key) && fire.nextRunAt !== null && fire.nextRunAt <= now)) return 0;
      }
      if (due.length === DUE_BATCH) return 0;
    }
    if (nextAt === null) return pollMs;
    // +1 ms: a timer may fire a hair early against the clock, and next_run_at ≤ now is what "due" means.
    return Math.max(0, Math.min(pollMs, nextAt - clock.now() + 1));
  }
}
