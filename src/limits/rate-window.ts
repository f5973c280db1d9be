import type { RateLimit } from './limits.ts';

/**
 * A rate limit's state: starts counted per bucket of intervalMs / BUCKETS, as [bucket index, starts] pairs,
 * stored as JSON in the control row (per name) or the key-state row (per key).
 *
 * Why not a token bucket or GCRA: a bucket of `max` tokens refilled at max per interval lets 2·max start
 * within one interval (a full bucket, then its refill), and GCRA without that burst starts one job per claim.
 * This sliding window counts every start whose bucket may overlap the last interval plus one bucket, so
 * in ANY window of intervalMs — wherever it begins — at most `max` jobs start (no boundary burst), claims
 * still take `max` at once, and a start's claim time may lag its handler's start by up to one bucket
 * (50 ms for a 1 s interval) without breaking that bound. Cost: a backlog runs at max per (interval + 2
 * buckets), 91% of the nominal rate; state is at most BUCKETS + 2 pairs, whatever the rate.
 */
export type WindowState = [bucket: number, starts: number][];

const BUCKETS = 20;

const width = (rate: RateLimit) => rate.intervalMs / BUCKETS;

/** The oldest bucket that still counts at `now`: buckets that may hold a start in (now − interval − width, now]. */
function firstCounted(rate: RateLimit, now: number): number {
  return Math.floor((now - rate.intervalMs) / width(rate)) - 1;
}

/**
 * Parses stored state, `{ "w": bucket width, "b": [[bucket, starts], …] }`. Null, malformed, or kept under another
 * interval (its buckets would be misread: setLimits changed intervalMs): empty.
 */
export function parseWindow(text: string | null | undefined, rate: RateLimit | null): WindowState {
  if (!text || rate === null) return [];
  try {
    const parsed = JSON.parse(text) as { w?: unknown; b?: unknown };
    return parsed.w === width(rate) && Array.isArray(parsed.b) ? (parsed.b as WindowState) : [];
  } catch {
    return [];
  }
}

/** The state as stored (see parseWindow). */
export function serializeWindow(state: WindowState, rate: RateLimit): string {
  return JSON.stringify({ w: width(rate), b: state });
}

/** Starts still allowed at `now`. */
export function allowance(state: WindowState, rate: RateLimit, now: number): number {
  const from = firstCounted(rate, now);
  let used = 0;
  for (const [bucket, starts] of state) if (bucket >= from) used += starts;
  return Math.max(0, rate.max - used);
}

/** The state after `n` starts at `now`, old buckets dropped. */
export function record(state: WindowState, rate: RateLimit, now: number, n: number): WindowState {
  const from = firstCounted(rate, now);
  const bucket = Math.floor(now / width(rate));
  const kept = state.filter(([b]) => b >= from && b !== bucket);
  const current = state.find(([b]) => b === bucket)?.[1] ?? 0;
  kept.push([bucket, current + n]);
  return kept.sort((a, b) => a[0] - b[0]);
}

/** When (epoch ms) at least one start is allowed again; `now` if one is allowed already. */
export function nextAllowed(state: WindowState, rate: RateLimit, now: number): number {
  if (allowance(state, rate, now) > 0) return now;
  const from = firstCounted(rate, now);
  let used = 0;
  for (const [, starts] of state.filter(([b]) => b >= from)) used += starts;
  // Buckets stop counting oldest first: bucket b counts while b ≥ floor((t − interval) / width) − 1,
  // i.e. until t = (b + 2) · width + interval.
  for (const [bucket, starts] of [...state].filter(([b]) => b >= from).sort((a, b) => a[0] - b[0])) {
    used -= starts;
    if (used < rate.max) return Math.ceil((bucket + 2) * width(rate) + rate.intervalMs);
  }
  return now;
}
