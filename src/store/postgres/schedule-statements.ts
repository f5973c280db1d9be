import type { ScheduleRow } from '../store.ts';
import { countedCte, moves } from './counters.ts';
import { quoteIdent } from './schema.ts';
import type { Statement } from './statements.ts';

/** Schedules, retention by count and the next-due read, for the PostgreSQL store (times as epoch ms). */

const COLUMNS = `key, cron, tz, every_ms, name, data, options, missed, paused, anchor_at, fired_through, last_run_at, next_run_at, revision`;

/** The schedule statements of one schema. */
export function buildScheduleStatements(schema: string) {
  const S = quoteIdent(schema);
  const T = `${S}.schedules`;
  const name = (key: string) => `spool:${schema}:${key}`;
  const changed = `(s.cron IS DISTINCT FROM excluded.cron OR s.tz IS DISTINCT FROM excluded.tz OR s.every_ms IS DISTINCT FROM excluded.every_ms)`;
  return {
    // $1 key, $2 cron, $3 tz, $4 every, $5 name, $6 data, $7 options, $8 missed, $9 now, $10 next run.
    // See the SQLite twin (sqlite/schedule-statements.ts) for what a changed spec does.
    upsert: {
      name: name('schedule-upsert'),
      text: `
  INSERT INTO ${T} AS s (${COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8, false, $9::bigint, $9::bigint, NULL, $10::bigint, 1)
  ON CONFLICT (key) DO UPDATE SET
    name = excluded.name, data = excluded.data, options = excluded.options, missed = excluded.missed,
    cron = excluded.cron, tz = excluded.tz, every_ms = excluded.every_ms,
    revision      = CASE WHEN ${changed} THEN s.revision + 1 ELSE s.revision END,
    anchor_at     = CASE WHEN ${changed} THEN excluded.anchor_at ELSE s.anchor_at END,
    fired_through = CASE WHEN ${changed} THEN greatest(s.fired_through, excluded.fired_through) ELSE s.fired_through END,
    next_run_at   = CASE WHEN ${changed} THEN excluded.next_run_at ELSE s.next_run_at END
  RETURNING ${COLUMNS}`,
    },
    select: { name: name('schedules'), text: `SELECT ${COLUMNS} FROM ${T} WHERE $1::text IS NULL OR key = $1 ORDER BY key` },
    // $1 key, $2 paused, $3 now, $4 next run (used on resume).
    pause: {
      name: name('schedule-pause'),
      text: `
  UPDATE ${T} SET paused = $2,
         fired_through = CASE WHEN $2 THEN fired_through ELSE greatest(fired_through, $3::bigint) END,
         next_run_at = CASE WHEN $2 THEN next_run_at ELSE $4::bigint END
   WHERE key = $1
  RETURNING ${COLUMNS}`,
    },
    delete: { name: name('schedule-delete'), text: `DELETE FROM ${T} WHERE key = $1 RETURNING key` },
    // $1 names, $2 now, $3 limit: the due ones, then the one that comes due next.
    due: {
      name: name('schedules-due'),
      text: `
  (SELECT ${COLUMNS} FROM ${T} WHERE NOT paused AND next_run_at <= $2::bigint AND name = ANY($1::text[]) ORDER BY next_run_at LIMIT $3)
  UNION ALL
  (SELECT ${COLUMNS} FROM ${T} WHERE NOT paused AND next_run_at > $2::bigint AND name = ANY($1::text[]) ORDER BY next_run_at LIMIT 1)`,
    },
    // $1 fires as JSON [{ key, revision, from, to, last, next }]: the watermarks' compare-and-set.
    fire: {
      name: name('schedules-fire'),
      text: `
  UPDATE ${T} AS s
     SET fired_through = f.to, last_run_at = coalesce(f.last, s.last_run_at), next_run_at = f.next
    FROM json_to_recordset($1::json) AS f(key text, revision integer, "from" bigint, "to" bigint, last bigint, next bigint)
   WHERE s.key = f.key AND s.revision = f.revision AND s.fired_through = f."from" AND NOT s.paused
  RETURNING s.key`,
    },
    // $1 names, $2 now: one probe of the (name, run_at) index per name; and the names' next schedule fire.
    nextDue: {
      name: name('next-due'),
      text: `
  SELECT min(date_part('epoch', (SELECT min(run_at) FROM ${S}.jobs_live j
                                  WHERE j.status = 'pending' AND j.name = n AND j.run_at > to_timestamp($2::float8 / 1000))) * 1000) AS at,
         (SELECT min(next_run_at) FROM ${T} WHERE NOT paused AND name = ANY($1::text[])) AS schedule_at
    FROM unnest($1::text[]) AS n`,
    },
    // $1 status, $2 keep, $3 limit: finished jobs beyond the newest $2, oldest first.
    pruneKeep: {
      name: name('prune-keep'),
      text: `
  WITH gone AS (
    DELETE FROM ${S}.jobs_done j
     WHERE j.id = ANY(ARRAY(
       SELECT id FROM ${S}.jobs_done WHERE status = $1 ORDER BY id DESC OFFSET $2 LIMIT $3 FOR UPDATE SKIP LOCKED))
    RETURNING j.id, j.name, j.status),${countedCte(`${S}.counters`, [moves('gone', 'status', null)])}
  SELECT count(*)::int AS n FROM gone`,
    },
  } satisfies Record<string, Statement>;
}

/** A schedule row as PostgreSQL returns it (bigints as strings, json parsed). */
export interface ScheduleRecord {
  key: string;
  cron: string | null;
  tz: string | null;
  every_ms: string | null;
  name: string;
  data: unknown;
  options: unknown;
  missed: string;
  paused: boolean;
  anchor_at: string;
  fired_through: string;
  last_run_at: string | null;
  next_run_at: string | null;
  revision: number;
}

const num = (v: string | null) => (v === null ? null : Number(v));

export function toScheduleRow(r: ScheduleRecord): ScheduleRow {
  return {
    key: r.key, cron: r.cron, tz: r.tz, every: num(r.every_ms), name: r.name, dataJson: JSON.stringify(r.data), optionsJson: JSON.stringify(r.options),
    missed: r.missed as ScheduleRow['missed'], paused: r.paused, anchorAt: Number(r.anchor_at), firedThrough: Number(r.fired_through),
    lastRunAt: num(r.last_run_at), nextRunAt: num(r.next_run_at), revision: r.revision,
  };
}
