import type { ScheduleRow } from './store.ts';

/**
 * Store.schedulesDue's answer from the rows its one read returned (due ones, then the first one later, in
 * next-run order): the schedules to fire now, and when the next one after them fires.
 */
export function splitDue(rows: ScheduleRow[], now: number): { due: ScheduleRow[]; nextAt: number | null } {
  const due = rows.filter((r) => r.nextRunAt !== null && r.nextRunAt <= now);
  const later = rows.find((r) => r.nextRunAt !== null && r.nextRunAt > now);
  return { due, nextAt: later?.nextRunAt ?? null };
}
