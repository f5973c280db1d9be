/**
 * The SQLite statements of flow control (pause, limits; src/limits/). The limit-aware claim runs them inside
 * its write transaction, which SQLite serialises: no other claim can plan between its read and its write.
 */

const CONTROL_COLUMNS = `name, paused, concurrency, per_key_concurrency, rate_max, rate_interval_ms, per_key_rate_max, per_key_rate_interval_ms`;

/** Every control row (a few, one per name with a pause or limits): what workers split their names by. */
export const SELECT_CONTROLS = `SELECT ${CONTROL_COLUMNS} FROM spool_controls ORDER BY name`;

/** The control rows of @names with their rate state, read at the start of a limit-aware claim. */
export const SELECT_CONTROLS_OF = `
  SELECT ${CONTROL_COLUMNS}, rate_state FROM spool_controls WHERE name IN (SELECT value FROM json_each(@names))`;

/**
 * Writes one name's control: @paused (0/1, NULL keeps it) and, with @setLimits = 1, all four limits (NULL
 * removes one). Changing limits keeps the rate state (starts already counted still count).
 */
export const UPSERT_CONTROL = `
  INSERT INTO spool_controls (name, paused, concurrency, per_key_concurrency, rate_max, rate_interval_ms,
                              per_key_rate_max, per_key_rate_interval_ms, updated_at)
  VALUES (@name, coalesce(@paused, 0), @concurrency, @perKeyConcurrency, @rateMax, @rateIntervalMs,
          @perKeyRateMax, @perKeyRateIntervalMs, @now)
  ON CONFLICT (name) DO UPDATE SET
    paused = coalesce(@paused, paused),
    concurrency = iif(@setLimits, excluded.concurrency, concurrency),
    per_key_concurrency = iif(@setLimits, excluded.per_key_concurrency, per_key_concurrency),
    rate_max = iif(@setLimits, excluded.rate_max, rate_max),
    rate_interval_ms = iif(@setLimits, excluded.rate_interval_ms, rate_interval_ms),
    per_key_rate_max = iif(@setLimits, excluded.per_key_rate_max, per_key_rate_max),
    per_key_rate_interval_ms = iif(@setLimits, excluded.per_key_rate_interval_ms, per_key_rate_interval_ms),
    updated_at = @now
  RETURNING ${CONTROL_COLUMNS}`;

/**
 * Jobs running (or held in a worker's buffer) per name and key among @names. The running set is small
 * (the slots and buffers of live workers), found through the status index.
 */
export const RUNNING_COUNTS = `
  SELECT name, concurrency_key AS key, count(*) AS n FROM spool_jobs INDEXED BY spool_jobs_status_id
   WHERE status = 'running' AND name IN (SELECT value FROM json_each(@names))
   GROUP BY name, concurrency_key`;

/**
 * Due pending jobs of @names a limit-aware claim may take, in round-robin order across concurrency keys:
 * each key's first job (priority, run_at, id), then each key's second, … so one key's backlog cannot starve
 * the others. Jobs without a key come through the runnable index, in claim order, as one more "key".
 * A keyed job is left out when its key already runs its per-key limit (@caps: [[name, perKeyConcurrency]]).
 *
 * Keys are found by a loose index scan of the keyed jobs' own partial index (only keyed pending jobs enter
 * it, so the plain claim's jobs never write it): one seek per key, then at most @perKey jobs per key, so a
 * claim reads O(keys × perKey) entries, not the whole backlog (a window over every keyed job read 20,000
 * entries per claim and halved W3K's drain). At most @maxKeys keys per name are considered, in key order.
 * At most @cap rows.
 */
export const CLAIM_CANDIDATES = `
  WITH RECURSIVE running AS (${RUNNING_COUNTS}),
  caps AS (SELECT value ->> 0 AS name, value ->> 1 AS cap FROM json_each(@caps)),
  keys(name, key, depth) AS (
    SELECT value, (SELECT min(concurrency_key) FROM spool_jobs INDEXED BY spool_jobs_keyed
                    WHERE status = 'pending' AND concurrency_key IS NOT NULL AND name = value), 1
      FROM json_each(@names)
    UNION ALL
    SELECT k.name, (SELECT min(concurrency_key) FROM spool_jobs INDEXED BY spool_jobs_keyed
                     WHERE status = 'pending' AND concurrency_key IS NOT NULL AND name = k.name AND concurrency_key > k.key), k.depth + 1
      FROM keys k WHERE k.key IS NOT NULL AND k.depth < @maxKeys),
  picked AS (
    SELECT j.id, j.name, j.concurrency_key AS key, j.priority, j.run_at
      FROM keys k JOIN spool_jobs j ON j.id IN (
        SELECT id FROM spool_jobs INDEXED BY spool_jobs_keyed
         WHERE status = 'pending' AND concurrency_key IS NOT NULL AND name = k.name AND concurrency_key = k.key
           AND run_at <= @now
         ORDER BY priority DESC, run_at, id
         LIMIT @perKey)
     WHERE k.key IS NOT NULL),
  keyed AS (
    SELECT id, name, key, priority, run_at,
           row_number() OVER (PARTITION BY name, key ORDER BY priority DESC, run_at, id) AS rn
      FROM picked),
  -- Per name, its first @perName unkeyed jobs in claim order: one name at its limit cannot fill the
  -- candidates and crowd out the others.
  unkeyed AS (
    SELECT j.id, j.name, NULL AS key, j.priority, j.run_at
      FROM json_each(@names) AS n JOIN spool_jobs j ON j.id IN (
        SELECT id FROM spool_jobs INDEXED BY spool_jobs_runnable
         WHERE status = 'pending' AND run_at <= @now AND concurrency_key IS NULL AND name = n.value
         ORDER BY priority DESC, run_at, id
         LIMIT @perName))
  SELECT id, name, key FROM (
    SELECT k.id, k.name, k.key, k.rn, k.priority, k.run_at FROM keyed k
      LEFT JOIN running r ON r.name = k.name AND r.key = k.key
      LEFT JOIN caps c ON c.name = k.name
     WHERE c.cap IS NULL OR k.rn + coalesce(r.n, 0) <= c.cap
    UNION ALL
    SELECT id, name, key, row_number() OVER (PARTITION BY name ORDER BY priority DESC, run_at, id), priority, run_at FROM unkeyed)
   ORDER BY rn, priority DESC, run_at, id
   LIMIT @cap`;

/** Per-key rate states of @names. */
export const SELECT_KEY_STATES = `
  SELECT name, key, rate_state FROM spool_key_states WHERE name IN (SELECT value FROM json_each(@names))`;

/** Writes the rate states of names: @states = [[name, state JSON]]. */
export const WRITE_NAME_STATES = `
  UPDATE spool_controls SET rate_state = s.value ->> 1
    FROM json_each(@states) AS s WHERE spool_controls.name = s.value ->> 0`;

/** Writes per-key rate states: @states = [[name, key, state JSON]]. */
export const WRITE_KEY_STATES = `
  INSERT INTO spool_key_states (name, key, rate_state, at)
  SELECT value ->> 0, value ->> 1, value ->> 2, @now FROM json_each(@states) WHERE true
  ON CONFLICT (name, key) DO UPDATE SET rate_state = excluded.rate_state, at = excluded.at`;

/** Drops per-key rate states nothing started under since @before: they no longer count. */
export const PRUNE_KEY_STATES = `DELETE FROM spool_key_states WHERE name IN (SELECT value FROM json_each(@names)) AND at < @before`;
