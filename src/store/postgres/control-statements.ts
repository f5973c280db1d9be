import { quoteIdent } from './schema.ts';
import type { Statement } from './statements.ts';

const CONTROL_COLUMNS = `name, paused, concurrency, per_key_concurrency, rate_max, rate_interval_ms, per_key_rate_max, per_key_rate_interval_ms`;

/**
 * The PostgreSQL statements of flow control (pause, limits; src/limits/). The limit-aware claim locks the
 * names' control rows first (`lock`), in a statement of its own: a statement's snapshot is taken when it
 * starts, so the reads that follow the lock see every claim committed before it was granted.
 */
export function buildControlStatements(schema: string, channel: string) {
  const S = quoteIdent(schema);
  const L = `${S}.jobs_live`;
  const name = (key: string) => `spool:${schema}:${key}`;
  // The first key of \`job\` after \`after\` among pending keyed jobs, or NULL: one seek of jobs_live_keyed.
  // Written as a row comparison, which only an index on (name, concurrency_key) can take as its condition:
  // with \`name = … AND concurrency_key > …\` a planner without statistics (a fresh table) took the pending
  // jobs' (name, id) index and read every pending job of the name per key: 1.1 s per claim over 20,000.
  const nextKey = (job: string, after: string) => `(
      SELECT CASE WHEN x.name = ${job} THEN x.concurrency_key END FROM (
        SELECT name, concurrency_key FROM ${L}
         WHERE status = 'pending' AND concurrency_key IS NOT NULL AND (name, concurrency_key) > (${job}, ${after})
         ORDER BY name, concurrency_key LIMIT 1) x)`;
  return {
    controls: { name: name('controls'), text: `SELECT ${CONTROL_COLUMNS} FROM ${S}.controls ORDER BY name` },

    // $1 name, $2 paused (NULL keeps it), $3 set limits?, $4-$9 limits, $10 now. NOTIFY "external": workers
    // everywhere re-read the control rows (and claim again: a resume or a higher limit may free jobs).
    upsert: {
      name: name('control-upsert'),
      text: `
  WITH up AS (
    INSERT INTO ${S}.controls AS c (name, paused, concurrency, per_key_concurrency, rate_max, rate_interval_ms,
                                    per_key_rate_max, per_key_rate_interval_ms, updated_at)
    VALUES ($1, coalesce($2::boolean, false), $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (name) DO UPDATE SET
      paused = coalesce($2::boolean, c.paused),
      concurrency = CASE WHEN $3::boolean THEN excluded.concurrency ELSE c.concurrency END,
      per_key_concurrency = CASE WHEN $3::boolean THEN excluded.per_key_concurrency ELSE c.per_key_concurrency END,
      rate_max = CASE WHEN $3::boolean THEN excluded.rate_max ELSE c.rate_max END,
      rate_interval_ms = CASE WHEN $3::boolean THEN excluded.rate_interval_ms ELSE c.rate_interval_ms END,
      per_key_rate_max = CASE WHEN $3::boolean THEN excluded.per_key_rate_max ELSE c.per_key_rate_max END,
      per_key_rate_interval_ms = CASE WHEN $3::boolean THEN excluded.per_key_rate_interval_ms ELSE c.per_key_rate_interval_ms END,
      updated_at = $10
    RETURNING ${CONTROL_COLUMNS}),
  note AS (SELECT pg_notify('${channel}', '"external"') FROM up)
  SELECT up.* FROM up, (SELECT count(*) FROM note) n`,
    } satisfies Statement,

    // $1 names. Locks their control rows (in name order: two claims never wait on each other crosswise).
    lock: {
      name: name('control-lock'),
      text: `SELECT ${CONTROL_COLUMNS}, rate_state FROM ${S}.controls WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
    },

    // $1 active names, $2 now, $3 per-key caps as [[name, cap]] JSON, $4 candidates at most, $5 names with a
    // per-key rate, $6 jobs read per key, $7 keys per name at most, $8 unkeyed jobs read per name. One read after the lock: rows of kind 'r'
    // (running per name and key), 'c' (due pending jobs in round-robin order across keys, those of a key at its
    // per-key limit left out; unkeyed ones in claim order through the runnable index) and 'k' (per-key rate
    // states). Keys come from a loose index scan of the keyed jobs' partial index (one seek per key, then at
    // most $6 jobs each): O(keys × $6) per claim, not the whole backlog.
    read: {
      name: name('limited-read'),
      text: `
  WITH RECURSIVE running AS (
    SELECT name, concurrency_key AS key, count(*) AS n FROM ${L}
     WHERE status = 'running' AND name = ANY($1::text[]) GROUP BY name, concurrency_key),
  caps AS (SELECT value ->> 0 AS name, (value ->> 1)::int AS cap FROM json_array_elements($3::json)),
  keys AS (
    SELECT n.name, ${nextKey('n.name', "''")} AS key, 1 AS depth
      FROM unnest($1::text[]) AS n(name)
    UNION ALL
    SELECT k.name, ${nextKey('k.name', 'k.key')},
           k.depth + 1
      FROM keys k WHERE k.key IS NOT NULL AND k.depth < $7),
  keyed AS (
    SELECT j.id, j.name, j.concurrency_key AS key, j.priority, j.run_at,
           row_number() OVER (PARTITION BY j.name, j.concurrency_key ORDER BY j.priority DESC, j.run_at, j.id) AS rn
      FROM keys k CROSS JOIN LATERAL (
        -- The key's first $6 due jobs in jobs_live_keyed's order; rows of the next keys are dropped below
        -- (a row comparison again, so no other index looks cheaper to a planner without statistics).
        SELECT id, name, concurrency_key, priority, run_at FROM ${L}
         WHERE status = 'pending' AND concurrency_key IS NOT NULL AND (name, concurrency_key) >= (k.name, k.key)
           AND run_at <= to_timestamp($2::float8 / 1000)
         ORDER BY name, concurrency_key, priority DESC, run_at, id
         LIMIT $6) j
     WHERE k.key IS NOT NULL AND j.name = k.name AND j.concurrency_key = k.key),
  unkeyed AS (
    -- Per name, its first $8 unkeyed jobs in claim order through jobs_live_runnable (one name at its limit
    -- cannot crowd out the others). \`name || ''\` keeps the planner off the pending jobs' (name, id) index,
    -- through which (no statistics on a fresh table) it read and sorted every pending job of the name on each
    -- claim: 20,000 rows, 10 ms (W3L).
    SELECT j.* FROM unnest($1::text[]) AS n(name) CROSS JOIN LATERAL (
      SELECT id, name, NULL::text AS key, priority, run_at FROM ${L}
       WHERE status = 'pending' AND run_at <= to_timestamp($2::float8 / 1000) AND concurrency_key IS NULL
         AND name || '' = n.name
       ORDER BY priority DESC, run_at, id
       LIMIT $8) j),
  cand AS (
    SELECT * FROM (
      SELECT k.id, k.name, k.key, k.rn, k.priority, k.run_at FROM keyed k
        LEFT JOIN running r ON r.name = k.name AND r.key = k.key
        LEFT JOIN caps c ON c.name = k.name
       WHERE c.cap IS NULL OR k.rn + coalesce(r.n, 0) <= c.cap
      UNION ALL
      SELECT id, name, key, row_number() OVER (PARTITION BY name ORDER BY priority DESC, run_at, id), priority, run_at FROM unkeyed) u
     ORDER BY rn, priority DESC, run_at, id
     LIMIT $4)
  SELECT 'r' AS kind, NULL::bigint AS id, name, key, n, NULL::text AS state FROM running
  UNION ALL
  SELECT 'c', id, name, key, NULL, NULL FROM (SELECT * FROM cand ORDER BY rn, priority DESC, run_at, id) c
  UNION ALL
  SELECT 'k', NULL, name, key, NULL, rate_state FROM ${S}.key_states WHERE name = ANY($5::text[])`,
    },

    // $1 name states [[name, state]], $2 key states [[name, key, state]], $3 now, $4 names with a per-key
    // rate, $5 key states idle since before this are dropped (they count nothing any more).
    writeStates: {
      name: name('limited-states'),
      text: `
  WITH names AS (
    UPDATE ${S}.controls c SET rate_state = s.value ->> 1
      FROM json_array_elements($1::json) s WHERE c.name = s.value ->> 0
    RETURNING 1),
  keys AS (
    INSERT INTO ${S}.key_states (name, key, rate_state, at)
    SELECT value ->> 0, value ->> 1, value ->> 2, $3 FROM json_array_elements($2::json)
    ON CONFLICT (name, key) DO UPDATE SET rate_state = excluded.rate_state, at = excluded.at
    RETURNING 1),
  pruned AS (
    DELETE FROM ${S}.key_states WHERE name = ANY($4::text[]) AND at < $5
       AND (name, key) NOT IN (SELECT value ->> 0, value ->> 1 FROM json_array_elements($2::json))
    RETURNING 1)
  SELECT (SELECT count(*) FROM names) + (SELECT count(*) FROM keys) + (SELECT count(*) FROM pruned) AS n`,
    },
  } satisfies Record<string, Statement>;
}

export type ControlStatements = ReturnType<typeof buildControlStatements>;
