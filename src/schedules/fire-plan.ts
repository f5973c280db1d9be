import type { NewJob, ScheduleFire, ScheduleRow } from '../store/store.ts';
import { DEFAULT_BACKOFF } from '../backoff.ts';
import type { BackoffOptions } from '../job.ts';
import { FireTimes, MAX_CATCH_UP, MISSED_AFTER_MS, type ScheduleSpec } from './spec.ts';

/** The spec of a stored schedule. */
export function specOf(row: Pick<ScheduleRow, 'cron' | 'tz' | 'every'>): ScheduleSpec {
  return row.cron !== null ? { cron: row.cron, ...(row.tz !== null ? { tz: row.tz } : {}) } : { every: row.every! };
}

/** The unique key of the job of one fire: the database keeps one live job per (schedule, fire time). */
export function fireKey(key: string, fireAt: number): string {
  return `schedule:${key}:${fireAt}`;
}

/**
 * What one process would write for a due schedule at `now`: the fire times in (firedThrough, now] it runs
 * under the missed policy, and the new watermark (the newest fire time ≤ now, whether run or dropped).
 * Fires younger than MISSED_AFTER_MS are on time and always run; older ones were missed:
 * skip drops them, latest runs the newest of them once (when no on-time fire runs), all runs the newest
 * MAX_CATCH_UP of them. Null when there is nothing to write.
 */
export function planFire(row: ScheduleRow, now: number): { fire: ScheduleFire; dropped: number } | null {
  const times = new FireTimes(specOf(row), row.anchorAt);
  const fires = times.between(row.firedThrough, now, row.missed === 'all' ? MAX_CATCH_UP : MAX_CATCH_UP + 1);
  if (fires.length === 0) {
    // Due by next_run_at yet nothing to fire (a hint written from another clock): only move next_run_at on.
    const next = times.nextAfter(Math.max(now, row.firedThrough));
    if (row.nextRunAt === next) return null;
    const fire = { key: row.key, revision: row.revision, firedThrough: row.firedThrough, newFiredThrough: row.firedThrough, lastRunAt: null, nextRunAt: next, jobs: [] };
    return { fire, dropped: 0 };
  }
  const newest = fires[fires.length - 1]!;
  const onTime = fires.filter((t) => t > now - MISSED_AFTER_MS);
  let run: number[];
  if (row.missed === 'all') run = fires;
  else if (onTime.length > 0 || row.missed === 'skip') run = onTime;
  else run = [newest];
  // How many fires were dropped is known exactly only for the walked window; enough for a log line.
  const dropped = row.missed === 'all' ? 0 : fires.length - run.length;
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
      nextRunAt: times.nextAfter(Math.max(now, newest)),
      jobs,
    },
    dropped,
  };
}
