import type { Outcome } from '../store/store.ts';

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

/** All counters at zero. */
export function newWorkerStats(): WorkerStats {
  return { claims: 0, ticks: 0, started: 0, completed: 0, retried: 0, failed: 0, cancelled: 0, released: 0 };
}

const COUNTER_OF = { completed: 'completed', retry: 'retried', failed: 'failed', cancelled: 'cancelled', released: 'released' } as const;

/** Counts one outcome the store applied. */
export function countOutcome(stats: WorkerStats, outcome: Outcome): void {
  stats[COUNTER_OF[outcome.status]]++;
}
