/**
 * Exact counters kept by the statements that move jobs, in one small table `<schema>.counters`:
 *
 * - kind 0: jobs of `name` in status `key` (its index in JOB_STATUSES), the count itself;
 * - kind 1 and 2: jobs of `name` completed, and failed for good, in minute `key` (epoch ms / 60,000);
 * - kind 3: when a worker last claimed a job of `name` (`n`, epoch ms; `key` 0).
 *
 * How they stay exact at any size without slowing the workers: every job-moving statement carries ONE more
 * CTE (`counted`) that upserts what its batch changed, grouped by (kind, key, name): a few rows per statement,
 * never one per job, in the same transaction as the change. Rows are spread over SHARDS by the writing
 * backend (`pg_backend_pid() % 64`), so concurrent workers, each on its own connection, update different rows
 * and never queue on one hot counter; the upsert takes its rows in (kind, key, name) order, so two statements
 * sharing a shard cannot deadlock. A read sums the shards: at most names × 5 × 64 rows whatever the number of
 * jobs (River UI's full-table GROUP BY took 13 s at 1.6 M rows; this is a few hundred rows at 10 M).
 * Old minutes are deleted by the store every 10 minutes (8 days kept).
 */
export const SHARDS = 64;

/** Statuses as counter keys. */
const STATUS_KEYS = `ARRAY['pending', 'running', 'completed', 'failed', 'cancelled']`;

/** The counter key of a status expression. */
export const statusKey = (status: string) => `(array_position(${STATUS_KEYS}, ${status}) - 1)`;

/** Delta rows (kind, key, name, n) for jobs of `rows` moving from `from` to `to` (null: inserted or deleted). */
export function moves(rows: string, from: string | null, to: string | null, where = ''): string {
  const parts: string[] = [];
  const w = where ? ` WHERE ${where}` : '';
  if (from !== null) parts.push(`SELECT 0 AS kind, ${statusKey(from)} AS key, name, -1::bigint AS n FROM ${rows}${w}`);
  if (to !== null) parts.push(`SELECT 0 AS kind, ${statusKey(to)} AS key, name, 1::bigint AS n FROM ${rows}${w}`);
  return parts.join('\n    UNION ALL ');
}

/** Delta rows for jobs of `rows` that ended (`outcome` completed or failed) in the minute of `nowMs`. */
export function endedInMinute(rows: string, outcome: string, nowMs: string): string {
  return `SELECT CASE ${outcome} WHEN 'completed' THEN 1 ELSE 2 END AS kind, floor(${nowMs}::float8 / 60000)::bigint AS key, name, 1::bigint AS n
      FROM ${rows} WHERE ${outcome} IN ('completed', 'failed')`;
}

/** Delta rows recording a claim of each name in `rows` at `nowMs`. */
export function claimedAt(rows: string, nowMs: string, where = ''): string {
  return `SELECT 3 AS kind, 0::bigint AS key, name, ${nowMs}::bigint AS n FROM ${rows}${where ? ` WHERE ${where}` : ''}`;
}

/** The CTE that applies delta rows (the UNION ALL of `deltas`) to the counters, one upsert. */
export function countedCte(counters: string, deltas: string[]): string {
  return `
  counted AS (
    INSERT INTO ${counters} AS c (kind, key, name, shard, n)
    SELECT kind, key, name, pg_backend_pid() % ${SHARDS}, CASE WHEN kind = 3 THEN max(n) ELSE sum(n) END
      FROM (${deltas.join('\n    UNION ALL ')}) d
     GROUP BY kind, key, name
     ORDER BY kind, key, name
    ON CONFLICT (kind, key, name, shard) DO UPDATE SET n = CASE WHEN c.kind = 3 THEN greatest(c.n, excluded.n) ELSE c.n + excluded.n END)`;
}

/** The migration that creates the counters and fills them from the jobs already there. */
export function countersMigration(S: string): string {
  return `
  CREATE TABLE ${S}.counters (
    kind  smallint NOT NULL,
    key   bigint   NOT NULL,
    name  text     NOT NULL,
    shard smallint NOT NULL,
    n     bigint   NOT NULL,
    PRIMARY KEY (kind, key, name, shard)
  ) WITH (
    -- Updated by every batch: let autovacuum clear dead row versions early (the table stays a few pages).
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, fillfactor = 50
  );
  INSERT INTO ${S}.counters (kind, key, name, shard, n)
  SELECT 0, ${statusKey('status')}, name, 0, count(*) FROM ${S}.jobs GROUP BY name, status;
  `;
}
