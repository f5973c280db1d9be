import type Database from 'better-sqlite3';
import type { ScheduleRow } from '../store.ts';

/** SQL of schedules, retention by count and the next-due read, for the SQLite store (schema: migration 6). */

const SCHEDULE_COLUMNS = `key, cron, tz, every_ms, name, data, options, missed, paused, anchor_at, fired_through, last_run_at, next_run_at, revision`;

/**
 * Create, or update the job and policy. The spec counts as changed when cron, tz or every differ: then the
 * revision is bumped (in-flight fires of the old spec fail their compare-and-set), `every` counts from now,
 * and the watermark moves to now at least (fires of the new spec before its declaration do not run). The
 * paused flag is left alone: a process declaring its schedules at boot does not resume one paused by hand.
 */
export const UPSERT_SCHEDULE = `
  INSERT INTO spool_schedules (${SCHEDULE_COLUMNS})
  VALUES (@key, @cron, @tz, @every, @name, @data, @options, @missed, 0, @now, @now, NULL, @next, 1)
  ON CONFLICT (key) DO UPDATE SET
    name = excluded.name, data = excluded.data, options = excluded.options, missed = excluded.missed,
    cron = excluded.cron, tz = excluded.tz, every_ms = excluded.every_ms,
    revision      = iif(${changed()}, revision + 1, revision),
    anchor_at     = iif(${changed()}, excluded.anchor_at, anchor_at),
    fired_through = iif(${changed()}, max(fired_through, excluded.fired_through), fired_through),
    next_run_at   = iif(${changed()}, excluded.next_run_at, next_run_at)
  RETURNING ${SCHEDULE_COLUMNS}`;

function changed(): string {
  return `(cron IS NOT excluded.cron OR tz IS NOT excluded.tz OR every_ms IS NOT excluded.every_ms)`;
}

export const SELECT_SCHEDULES = `SELECT ${SCHEDULE_COLUMNS} FROM spool_schedules WHERE @key IS NULL OR key = @key ORDER BY key`;

export const PAUSE_SCHEDULE = `
  UPDATE spool_schedules
     SET paused = @paused,
         fired_through = iif(@paused, fired_through, max(fired_through, @now)),
         next_run_at = iif(@paused, next_run_at, @next)
   WHERE key = @key
  RETURNING ${SCHEDULE_COLUMNS}`;

export const DELETE_SCHEDULE = `DELETE FROM spool_schedules WHERE key = @key`;

/** Due schedules (through the partial index on next_run_at), then the one that comes due next. */
export const DUE_SCHEDULES = `
  SELECT * FROM (SELECT ${SCHEDULE_COLUMNS} FROM spool_schedules
                  WHERE paused = 0 AND next_run_at <= @now AND name IN (SELECT value FROM json_each(@names))
                  ORDER BY next_run_at LIMIT @limit)
  UNION ALL
  SELECT * FROM (SELECT ${SCHEDULE_COLUMNS} FROM spool_schedules
                  WHERE paused = 0 AND next_run_at > @now AND name IN (SELECT value FROM json_each(@names))
                  ORDER BY next_run_at LIMIT 1)`;

/** The watermark's compare-and-set, for a batch of schedules at once. */
export const FIRE_SCHEDULES = `
  UPDATE spool_schedules
     SET fired_through = f.value ->> 'to', last_run_at = coalesce(f.value ->> 'last', last_run_at), next_run_at = f.value ->> 'next'
    FROM json_each(@fires) AS f
   WHERE spool_schedules.key = f.value ->> 'key' AND revision = f.value ->> 'revision'
     AND fired_through = f.value ->> 'from' AND paused = 0
  RETURNING spool_schedules.key`;

/**
 * When the next pending job of these names comes due (the partial index on (name, run_at), one probe per name),
 * and the next fire of their schedules.
 */
export const NEXT_DUE = `
  SELECT min((SELECT min(run_at) FROM spool_jobs j WHERE j.status = 'pending' AND j.name = n.value AND j.run_at > @now)) AS at,
         (SELECT min(next_run_at) FROM spool_schedules WHERE paused = 0 AND name IN (SELECT value FROM json_each(@names))) AS schedule_at
    FROM json_each(@names) AS n`;

/** Finished jobs of a status beyond the newest @keep, oldest first (PRUNE_JOBS's count-based twin). */
export const PRUNE_KEEP = `
  DELETE FROM spool_jobs
   WHERE id IN (SELECT id FROM spool_jobs WHERE status = @status ORDER BY id DESC LIMIT @limit OFFSET @keep)
  RETURNING name, status`;

/** A schedule row as SQLite returns it. */
export interface ScheduleRecord {
  key: string;
  cron: string | null;
  tz: string | null;
  every_ms: number | null;
  name: string;
  data: string;
  options: string;
  missed: string;
  paused: number;
  anchor_at: number;
  fired_through: number;
  last_run_at: number | null;
  next_run_at: number | null;
  revision: number;
}

export function toScheduleRow(r: ScheduleRecord): ScheduleRow {
  return {
    key: r.key, cron: r.cron, tz: r.tz, every: r.every_ms, name: r.name, dataJson: r.data, optionsJson: r.options,
    missed: r.missed as ScheduleRow['missed'], paused: r.paused !== 0, anchorAt: r.anchor_at, firedThrough: r.fired_through,
    lastRunAt: r.last_run_at, nextRunAt: r.next_run_at, revision: r.revision,
  };
}

/** The schedule statements, prepared once per connection. */
export function prepareScheduleStatements(db: Database.Database): Record<'upsert' | 'select' | 'pause' | 'delete' | 'due' | 'fire' | 'nextDue' | 'pruneKeep', Database.Statement> {
  return {
    upsert: db.prepare(UPSERT_SCHEDULE),
    select: db.prepare(SELECT_SCHEDULES),
    pause: db.prepare(PAUSE_SCHEDULE),
    delete: db.prepare(DELETE_SCHEDULE),
    due: db.prepare(DUE_SCHEDULES),
    fire: db.prepare(FIRE_SCHEDULES),
    nextDue: db.prepare(NEXT_DUE),
    pruneKeep: db.prepare(PRUNE_KEEP),
  };
}
