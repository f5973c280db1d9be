import type { Clock } from '../clock.ts';
import type { FaultReporter } from '../fault-reporter.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
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
  private done: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(private readonly deps: FirerDeps) {}

  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  /** Read the schedules again now. */
  poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    clearTimeout(this.timer);
    wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let waitMs: number;
      try {
        waitMs = await this.pass();
        this.failures = 0;
        this.deps.health.succeeded('schedules');
      } catch (error) {
        this.failures++;
        this.deps.health.failed('schedules', 'fire schedules', error, { retried: true });
        waitMs = Math.min(100 * 2 ** this.failures, this.deps.pollMs);
      }
      if (!this.running) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, waitMs);
      });
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
