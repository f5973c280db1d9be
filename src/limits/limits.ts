import { z } from 'zod';

/** Starts allowed per interval: `max` jobs in any window of `intervalMs`. */
export interface RateLimit {
  max: number;
  intervalMs: number;
}

/**
 * Limits of one job name, cluster-wide (queue.setLimits). Each is optional; null or absent means none.
 * Per-key limits apply to jobs added with `concurrencyKey`; jobs without a key obey only the name's limits.
 */
export interface NameLimits {
  /** Jobs of this name running at once across all workers. */
  concurrency?: number | null;
  /** Jobs of one concurrencyKey running at once across all workers. */
  perKeyConcurrency?: number | null;
  /** Starts of this name per interval. */
  rate?: RateLimit | null;
  /** Starts of one concurrencyKey per interval. */
  perKeyRate?: RateLimit | null;
}

/** The flow control of one name as stored: paused, and its limits (null fields: none). */
export interface NameControl {
  name: string;
  paused: boolean;
  concurrency: number | null;
  perKeyConcurrency: number | null;
  rate: RateLimit | null;
  perKeyRate: RateLimit | null;
}

/** True when a name's control asks nothing of the claim: its jobs go through the plain claim. */
export function isInert(c: NameControl): boolean {
  return !c.paused && c.concurrency === null && c.perKeyConcurrency === null && c.rate === null && c.perKeyRate === null;
}

/** What a name's limits look like to a reader (the API and CLI): only the limits that are set. */
export function limitsOf(c: NameControl): NameLimits | null {
  const out: NameLimits = {};
  if (c.concurrency !== null) out.concurrency = c.concurrency;
  if (c.perKeyConcurrency !== null) out.perKeyConcurrency = c.perKeyConcurrency;
  if (c.rate !== null) out.rate = c.rate;
  if (c.perKeyRate !== null) out.perKeyRate = c.perKeyRate;
  return Object.keys(out).length > 0 ? out : null;
}

const MAX_INT = 2_147_483_647;
const count = (what: string) =>
  z
    .number({ error: `must be ${what} (a whole number ≥ 1), or null to remove it` })
    .int('must be a whole number')
    .min(1, 'must be at least 1 (pause the name to stop it altogether)')
    .max(MAX_INT, `must be at most ${MAX_INT}`);
const rate = z.strictObject(
  {
    max: count('the starts allowed per interval'),
    // One day at most: the window's state is kept in 20 buckets of intervalMs / 20.
    intervalMs: z
      .number({ error: 'must be the interval in milliseconds (a whole number ≥ 1)' })
      .int('must be a whole number of milliseconds')
      .min(1, 'must be at least 1 ms')
      .max(86_400_000, 'must be at most 86,400,000 ms (one day)'),
  },
  { error: 'must be { max, intervalMs } (e.g. { max: 10, intervalMs: 1000 }), or null to remove it' },
);

/** queue.setLimits()'s second argument. */
export const nameLimitsSchema = z.strictObject(
  {
    concurrency: count('the jobs running at once').nullish(),
    perKeyConcurrency: count('the jobs of one key running at once').nullish(),
    rate: rate.nullish(),
    perKeyRate: rate.nullish(),
  },
  { error: 'must be an object of limits, e.g. { concurrency: 2 }' },
);
