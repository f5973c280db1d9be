import type { BackoffOptions } from './job.ts';

/** What a job without a `backoff` option gets: 1 s, doubling, capped at 1 h, with jitter. */
export const DEFAULT_BACKOFF: BackoffOptions = { type: 'exponential', delay: 1_000, maxDelay: 3_600_000, jitter: true };

/** The longest exponential delay when `maxDelay` is not given: 1 hour. */
const DEFAULT_MAX_DELAY = 3_600_000;

/**
 * Milliseconds to wait after the `attempt`-th attempt failed (attempt ≥ 1).
 * exponential: delay × 2^(attempt−1), capped at maxDelay; fixed: delay.
 * Jitter keeps the lower half fixed and randomises the upper half ("equal jitter"), so a retry never comes
 * much sooner than asked while a burst of failures spreads out. `random` is injectable for tests.
 */
export function backoffDelay(backoff: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  const base =
    backoff.type === 'fixed'
      ? backoff.delay
      : Math.min(backoff.delay * 2 ** Math.max(0, attempt - 1), backoff.maxDelay ?? DEFAULT_MAX_DELAY);
  if (!backoff.jitter) return Math.round(base);
  const half = base / 2;
  return Math.round(half + random() * half);
}
