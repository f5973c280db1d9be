import type { NewJob, ScheduleFire, ScheduleRow } from '../store/store.ts';
import { DEFAULT_BACKOFF } from '../backoff.ts';
import type { BackoffOptions } from '../job.ts';
import { FireTimes, MAX_CATCH_UP, MAX_FIRES_PER_PASS, MISSED_AFTER_MS, type ScheduleSpec } from './spec.ts';

/** The spec of a stored schedule. */
export function specOf(row: Pick<ScheduleRow, 'cron' | 'tz' | 'every'>): ScheduleSpec {
  return row.cron !== null ? { cron: row.cron, ...(row.tz !== null ? { tz: row.tz } : {}) } : { every: row.every! };
}

/** The unique key of the job of one fire: the database keeps one live job per (schedule, fire time). */
export function fireKey(key: string, fireAt: number): string {
  return `schedule:${key}:${fireAt}`;
}

/**
 * What one process would write for a due schedule at `now`, and the new watermark. Fire times in
 * (firedThrough, now] younger than MISSED_AFTER_MS are on time and always run (at most MAX_FIRES_PER_PASS per
 * pass, oldest first; the watermark then stops at the last one and the rest follow in the next pass). Older
 * ones were missed (no process ran at their time): skip drops them; latest runs the newest of them once, unless
 * an on-time fire runs anyway; all runs the newest MAX_CATCH_UP of them. Null when there is nothing to write.
 */
export function planFire(row: ScheduleRow, now: number): { fire: ScheduleFire; dropped: number } | null {
  const times = new FireTimes(specOf(row), row.anchorAt);
  const cut = now - MISSED_AFTER_MS;
  const missed = row.firedThrough < cut ? times.between(row.firedThrough, cut, row.missed === 'all' ? MAX_CATCH_UP : 1) : [];
  const onTime = times.first(Math.max(row.firedThrough, cut), now, MAX_FIRES_PER_PASS);
  const capped = onTime.length === MAX_FIRES_PER_PASS;
  const newest = onTime.length > 0 ? onTime[onTime.length - 1]! : missed[missed.length - 1];
  if (newest === undefined) {
    // Due by next_run_at yet nothing to fire (a hint written from another clock): only move next_run_at on.
    const next = times.nextAfter(Math.max(now, row.firedThrough));
    if (row.nextRunAt === next) return null;
    const fire = { key: row.key, revision: row.revision, firedThrough: row.firedThrough, newFiredThrough: row.firedThrough, lastRunAt: null, nextRunAt: next, jobs: [] };
    return { fire, dropped: 0 };
  }
  const late = row.missed === 'skip' || (row.missed === 'latest' && onTime.length > 0) ? [] : missed;
  const run = [...late, ...onTime];
  const options = JSON.parse(row.optionsJson) as { priority?: number; maxAttempts?: number; backoff?: BackoffOptions; timeout?: number };
  const jobs: NewJob[] = run.map((fireAt) => ({
    name: row.name,
    dataJson: row.dataJson,
    priority: options.priority ?? 0,
    runAt: fireAt,
    maxAttempts: options.maxAttempts ?? 3,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    timeout: options.timeout ?? null,
    uniqueKey: fireKey(row.key, fireAt),
  }));
  return {
    fire: {
      key: row.key,
      revision: row.revision,
      firedThrough: row.firedThrough,
      newFiredThrough: newest,
      lastRunAt: run.length > 0 ? run[run.length - 1]! : null,
      nextRunAt: times.nextAfter(capped ? newest : Math.max(now, newest)),
      jobs,
    },
    // Of the walked window only (a year down is not counted fire by fire): enough for a log line.
    dropped: missed.length - (late.length > 0 ? late.length : 0),
  };
}
