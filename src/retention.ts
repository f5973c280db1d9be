import { z } from 'zod';
import type { Clock } from './clock.ts';
import type { FaultReporter } from './fault-reporter.ts';
import type { Store } from './store/store.ts';
import type { BackgroundSlot } from './worker/background-slot.ts';

/** How long finished jobs of one status are kept: by age, or the newest N. */
export type RetentionRule = { olderThanMs: number } | { keep: number };

/** openQueue({ retention }): what workers delete, periodically, so the table stays small without prune(). */
export interface RetentionPolicy {
  completed?: RetentionRule;
  failed?: RetentionRule;
  cancelled?: RetentionRule;
  /** How often each worker runs it; default 60,000 ms (and once at start). */
  intervalMs?: number;
}

/**
 * Jobs one retention statement deletes at most: a short write (SQLite holds its one write lock for it). A run
 * goes on with further batches while they come back full, up to MAX_BATCHES_PER_RUN, so a worker deletes at
 * most 50,000 jobs a minute by default; a backlog of more is worked off over the next runs.
 */
export const RETENTION_BATCH = 1_000;
const MAX_BATCHES_PER_RUN = 50;
const DEFAULT_INTERVAL_MS = 60_000;

const rule = z.union(
  [
    z.strictObject({ olderThanMs: z.number().int('must be a whole number of ms').min(0, 'must be at least 0') }),
    z.strictObject({ keep: z.number().int('must be a whole number').min(0, 'must be at least 0') }),
  ],
  { error: 'must be { olderThanMs } or { keep }' },
);

/** The schema of openQueue's `retention` option. */
export const retentionSchema = z.strictObject({
  completed: rule.optional(),
  failed: rule.optional(),
  cancelled: rule.optional(),
  intervalMs: z.number().int('must be a whole number of ms').min(10, 'must be at least 10 ms').optional(),
});

/**
 * Runs the retention policy from a worker: at start and every intervalMs, for each status with a rule, batches
 * of RETENTION_BATCH (one statement each) until one comes back short. Every worker runs it; the deletes are
 * idempotent, so several workers cost a few statements more, not wrong counts.
 */
export class RetentionRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly policy: RetentionPolicy,
    private readonly deps: { clock: Clock; health: FaultReporter; slot: BackgroundSlot },
  ) {}

  start(): void {
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Runs once now (tests call it), then again after intervalMs. */
  private tick(): void {
    if (this.stopped) return;
    this.running = this.runOnce()
      .then(() => this.deps.health.succeeded('retention'))
      .catch((error: unknown) => this.deps.health.failed('retention', 'delete old jobs (retention)', error, { retried: true }))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.policy.intervalMs ?? DEFAULT_INTERVAL_MS);
      });
  }

  /** One run over every status with a rule; returns how many jobs it deleted. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      const r = this.policy[status];
      if (!r) continue;
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN && !this.stopped; batch++) {
        const deleted = await this.deps.slot.run(() =>
          'keep' in r
            ? this.store.pruneKeep({ status, keep: r.keep, limit: RETENTION_BATCH })
            : this.store.prune({ statuses: [status], before: this.deps.clock.now() - r.olderThanMs, limit: RETENTION_BATCH }),
        );
        total += deleted;
        if (deleted < RETENTION_BATCH) break;
      }
    }
    return total;
  }
}
