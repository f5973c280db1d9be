import type { Clock } from '../clock.ts';
import { StoreError } from '../errors.ts';
import type { FaultReporter } from '../fault-reporter.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { BackgroundSlot } from './background-slot.ts';
import type { HeldJobs } from './held-jobs.ts';
import type { WorkerStats } from './worker-stats.ts';

/** What the ticker needs from its worker. */
export interface TickerDeps {
  workerId: string;
  leaseMs: number;
  clock: Clock;
  logger: Logger;
  stats: WorkerStats;
  /** Where store failures are reported: once per streak, not once per tick. */
  health: FaultReporter;
  /** Shared with the schedule firer and retention: one background statement in flight per worker. */
  slot: BackgroundSlot;
  /** The store says a cancel was requested for this held job. */
  onCancel(id: string): void;
  /** The store says the worker no longer holds this job (deleted, or its lease taken over). */
  onLost(id: string): void;
}

/**
 * The worker tick: one statement per interval for every job the worker holds. It extends their leases,
 * writes their coalesced progress, and learns which were cancelled or lost. A tick that fails keeps its
 * progress for the next one; one tick at a time.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly store: Store,
    private readonly held: HeldJobs,
    private readonly deps: TickerDeps,
  ) {}

  /** Ticks every `everyMs` until stop(). */
  start(everyMs: number): void {
    this.timer = setInterval(() => void this.tick(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    const { held, deps } = this;
    if (this.ticking || held.attempts.size + held.buffer.length === 0) return;
    this.ticking = true;
    const attempts = [...held.attempts.values()];
    const running = held.leasedIds();
    const progress = attempts.flatMap((a) => (a.dirtyProgress === undefined ? [] : [{ id: a.job.id, json: a.dirtyProgress }]));
    for (const a of attempts) {
      if (a.dirtyProgress !== undefined) a.sendingProgress = a.dirtyProgress;
      a.dirtyProgress = undefined;
    }
    try {
      const { cancelled, lost } = await deps.slot.run(() =>
        this.store.tick({
          workerId: deps.workerId,
          leaseMs: deps.leaseMs,
          now: deps.clock.now(),
          running,
          progress,
        }),
      );
      deps.stats.ticks++;
      deps.health.succeeded('tick');
      for (const a of attempts) a.sendingProgress = undefined;
      for (const id of cancelled) deps.onCancel(id);
      for (const id of lost) deps.onLost(id);
    } catch (error) {
      for (const a of attempts) a.sendingProgress = undefined;
      if (error instanceof StoreError && !error.retryable && progress.length > 0) {
        // The database refused the progress it carried: sent again it would be refused again, and no lease
        // would ever be extended. Drop it; the next tick extends the leases (and carries newer progress).
        deps.logger.error(`worker ${deps.workerId}: the database refused the progress of jobs ${progress.map((p) => p.id).join(', ')} (${(error.cause as Error | undefined)?.message ?? error.message}); dropped it`);
        return;
      }
      // Keep the progress for the next tick, unless newer progress arrived meanwhile.
      const sent = new Map(progress.map((p) => [p.id, p.json]));
      for (const a of attempts) if (a.dirtyProgress === undefined && sent.has(a.job.id)) a.dirtyProgress = sent.get(a.job.id);
      // Not retried as such: with no job held there is no next tick, so any other success ends the fault.
      deps.health.failed('tick', 'extend its leases (tick; tried again at the next one)', error, { retried: false });
    } finally {
      this.ticking = false;
    }
  }
}
