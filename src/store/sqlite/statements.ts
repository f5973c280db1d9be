import { ERRORS_KEPT } from '../../job.ts';

/**
 * Every SQL statement the SQLite store runs, named. Batches travel as one JSON parameter read with
 * json_each, so a statement's text (and its prepared plan) is the same for 1 job or 1,000.
 *
 * The unary `+` in `+spool_jobs.status` keeps the planner off the status index in the batch updates: with
 * it, each row of the batch is one primary-key lookup; without it SQLite walked every running job and
 * probed the JSON for each (finish of 10 jobs: 0.1 ms → O(running × batch)).
 */

/**
 * The row's status as its code (index in JOB_STATUSES), for `prev_status`: a claim stores 0 or 1, which
 * SQLite keeps in the record header alone (no payload byte).
 */
const STATUS_CODE_SQL = `CASE status WHEN 'pending' THEN 0 WHEN 'running' THEN 1 WHEN 'completed' THEN 2 WHEN 'failed' THEN 3 ELSE 4 END`;

/** Columns of a job row besides id, for statements that name them. */
const JOB_ROW_COLUMNS = [
  'name', 'data', 'status', 'priority', 'attempts', 'max_attempts', 'backoff', 'timeout_ms', 'progress', 'result',
  'error', 'error_stack', 'run_at', 'created_at', 'started_at', 'completed_at', 'processing_by', 'lease_until',
  'cancel_requested', 'unique_key', 'errors', 'trace_context',
] as const;

/**
 * `errors` with one failed attempt appended (`entry`: SQL of a json_object), the oldest dropped beyond 20.
 * Each statement appends at most one entry to a job, so one removal always suffices.
 */
const appendError = (entry: string, errors = 'errors') =>
  `json_insert(CASE WHEN json_array_length(coalesce(${errors}, '[]')) >= ${ERRORS_KEPT} THEN json_remove(${errors}, '$[0]') ELSE coalesce(${errors}, '[]') END, '$[#]', ${entry})`;

export const INSERT_JOBS = `
  INSERT INTO spool_jobs (name, data, priority, run_at, max_attempts, backoff, timeout_ms, unique_key, created_at,
                          status, attempts, processing_by, lease_until, started_at, trace_context, concurrency_key)
  SELECT json_extract(value, '$.name'), json_extract(value, '$.data'), json_extract(value, '$.priority'),
         json_extract(value, '$.runAt'), json_extract(value, '$.maxAttempts'), json_extract(value, '$.backoff'),
         json_extract(value, '$.timeout'), json_extract(value, '$.uniqueKey'), @now,
         -- A job handed straight to an idle worker of this process is inserted claimed.
         iif(value ->> '$.claimedBy' IS NULL, 'pending', 'running'), iif(value ->> '$.claimedBy' IS NULL, 0, 1),
         value ->> '$.claimedBy', value ->> '$.leaseUntil', iif(value ->> '$.claimedBy' IS NULL, NULL, @now),
         value ->> '$.traceContext', value ->> '$.concurrencyKey'
    FROM json_each(@jobs)
   WHERE true
   ORDER BY key
  ON CONFLICT DO NOTHING
  RETURNING id, unique_key, name, status`;

export const SELECT_IDS_BY_UNIQUE_KEY = `
  SELECT id, unique_key FROM spool_jobs
   WHERE unique_key IN (SELECT value FROM json_each(@keys)) AND status IN ('pending', 'running')`;

/**
 * What a claim returns, as raw arrays in this order: the fields a claim does not set. RETURNING * as
 * objects cost 9.5 µs a row; these 15 columns as arrays 5.9 µs (claims of 200, bench .tmp/claimbench).
 */
export const CLAIMED_COLUMNS = [
  'id', 'name', 'data', 'priority', 'attempts', 'max_attempts', 'backoff', 'timeout_ms', 'progress',
  'error', 'error_stack', 'run_at', 'created_at', 'cancel_requested', 'unique_key', 'prev_status', 'errors', 'trace_context',
] as const;

// Lease-expired jobs first (they have waited longest), then due pending jobs in priority order. Expired
// leases are found among the running rows through the status index: the running set is small (the slots
// of live workers), and a lease index of its own cost two more index writes per job.
const claimJobs = (due: string) => `
  UPDATE spool_jobs
     SET status = 'running', attempts = attempts + 1, processing_by = @workerId,
         lease_until = @leaseUntil, started_at = @now, prev_status = ${STATUS_CODE_SQL},
         -- A lease-expired job taken back: its lost attempt goes into the history (SET sees the old row).
         errors = CASE status WHEN 'running' THEN ${appendError(`json_object('attempt', attempts, 'at', @now, 'message', 'lease expired: worker ' || coalesce(processing_by, '?') || ' stopped renewing it (it died, hung or lost the database)', 'stack', NULL, 'workerId', processing_by)`)} ELSE errors END
   WHERE id IN (
     SELECT id FROM (
       SELECT id FROM spool_jobs INDEXED BY spool_jobs_status_id
        WHERE status = 'running' AND lease_until < @now
          AND name IN (SELECT value FROM json_each(@names))
        LIMIT @limit)
     UNION ALL
     SELECT id FROM (
${due})
     LIMIT @limit)
  RETURNING ${CLAIMED_COLUMNS.join(', ')}`;

export const CLAIM_JOBS = claimJobs(`
       SELECT id FROM spool_jobs INDEXED BY spool_jobs_runnable
        WHERE status = 'pending' AND run_at <= @now
          AND name IN (SELECT value FROM json_each(@names))
        ORDER BY priority DESC, run_at, id
        LIMIT @limit`);

/** The limit-aware claim's last step: lease-expired jobs of @names, then the pending jobs the plan chose (@ids). */
export const CLAIM_CHOSEN = claimJobs(`
       SELECT value AS id FROM json_each(@ids)`);

// One row per running job: [id, progress JSON or null]. Extends the lease, writes progress that changed,
// and returns what the worker must learn (cancel requests). Rows not returned were lost.
export const TICK = `
  UPDATE spool_jobs
     SET lease_until = @leaseUntil, progress = coalesce(t.progress, spool_jobs.progress)
    FROM (SELECT value ->> 0 AS id, value ->> 1 AS progress FROM json_each(@entries)) AS t
   WHERE spool_jobs.id = t.id AND +spool_jobs.status = 'running' AND +spool_jobs.processing_by = @workerId
  RETURNING spool_jobs.id AS id, spool_jobs.cancel_requested AS cancel_requested`;

// Completions, nearly every outcome, get a statement of their own: [id, result JSON, progress JSON or
// null]. 2.6 µs a job against 5.7 µs through FINISH's CASEs (.tmp/split.ts, batches of 400).
export const COMPLETE = `
  UPDATE spool_jobs
     SET status = 'completed', result = o.result, progress = coalesce(o.progress, spool_jobs.progress),
         completed_at = @now, lease_until = NULL, cancel_requested = 0
    FROM (SELECT value ->> 0 AS id, value ->> 1 AS result, value ->> 2 AS progress FROM json_each(@outcomes)) AS o
   WHERE spool_jobs.id = o.id AND +spool_jobs.status = 'running' AND +spool_jobs.processing_by = @workerId
  RETURNING spool_jobs.id AS id, spool_jobs.name AS name, spool_jobs.parent_id AS parent_id`;

// Every other outcome in one statement; only jobs still held by this worker are touched. A retry or a
// release of a job whose cancel was requested meanwhile (by another process, learnt by no tick yet) ends it
// cancelled instead: without this the request was cleared and the job ran again. Returns [id, new status].
export const FINISH = `
  UPDATE spool_jobs
     SET status = CASE WHEN o.status IN ('retry', 'released') AND spool_jobs.cancel_requested = 1 THEN 'cancelled'
                       WHEN o.status IN ('retry', 'released') THEN 'pending' ELSE o.status END,
         result = CASE o.status WHEN 'completed' THEN o.result ELSE spool_jobs.result END,
         progress = coalesce(o.progress, spool_jobs.progress),
         error = CASE WHEN o.status IN ('retry', 'failed', 'cancelled') THEN o.error
                      WHEN o.status = 'released' AND spool_jobs.cancel_requested = 1 THEN 'cancelled by request'
                      ELSE spool_jobs.error END,
         error_stack = CASE WHEN o.status IN ('retry', 'failed', 'cancelled') THEN o.error_stack ELSE spool_jobs.error_stack END,
         run_at = CASE WHEN o.status = 'retry' AND spool_jobs.cancel_requested = 0 THEN o.run_at ELSE spool_jobs.run_at END,
         -- A final outcome never shows more attempts than allowed: a job whose last attempt died with its worker
         -- is claimed once more (attempts + 1) only to be failed or cancelled without running.
         attempts = CASE WHEN o.status = 'released' AND spool_jobs.cancel_requested = 0 THEN spool_jobs.attempts - 1
                         WHEN o.status IN ('failed', 'cancelled') OR spool_jobs.cancel_requested = 1
                           THEN min(spool_jobs.attempts, spool_jobs.max_attempts)
                         ELSE spool_jobs.attempts END,
         errors = CASE WHEN o.status IN ('retry', 'failed') THEN ${appendError(
           `json_object('attempt', min(spool_jobs.attempts, spool_jobs.max_attempts), 'at', @now, 'message', o.error, 'stack', o.error_stack, 'workerId', @workerId)`,
           'spool_jobs.errors',
         )} ELSE spool_jobs.errors END,
         completed_at = CASE WHEN o.status IN ('completed', 'failed', 'cancelled') OR spool_jobs.cancel_requested = 1 THEN @now END,
         lease_until = NULL,
         cancel_requested = 0
    FROM (SELECT value ->> '$.id' AS id, value ->> '$.status' AS status, value ->> '$.result' AS result,
                 value ->> '$.progress' AS progress, value ->> '$.error' AS error,
                 value ->> '$.errorStack' AS error_stack, value ->> '$.runAt' AS run_at
            FROM json_each(@outcomes)) AS o
   WHERE spool_jobs.id = o.id AND +spool_jobs.status = 'running' AND +spool_jobs.processing_by = @workerId
  RETURNING spool_jobs.id AS id, spool_jobs.name AS name, spool_jobs.status AS status, spool_jobs.parent_id AS parent_id`;

export const SET_PROGRESS = `
  UPDATE spool_jobs SET progress = t.progress
    FROM (SELECT value ->> 0 AS id, value ->> 1 AS progress FROM json_each(@entries)) AS t
   WHERE spool_jobs.id = t.id AND +spool_jobs.status IN ('pending', 'running')
  RETURNING spool_jobs.id AS id`;

export const SELECT_JOB = `SELECT * FROM spool_jobs WHERE id = @id`;
export const SELECT_JOBS = `SELECT * FROM spool_jobs WHERE id IN (SELECT value FROM json_each(@ids))`;

// Listing: one statement per filter shape so each uses its own index; newest first, keyset by id.
const LIST_TAIL = `AND id < @cursor ORDER BY id DESC LIMIT @limit OFFSET @offset`;
export const LIST_JOBS = {
  all: `SELECT * FROM spool_jobs WHERE true ${LIST_TAIL}`,
  status: `SELECT * FROM spool_jobs WHERE status = @status ${LIST_TAIL}`,
  name: `SELECT * FROM spool_jobs WHERE name = @name ${LIST_TAIL}`,
  statusAndName: `SELECT * FROM spool_jobs WHERE status = @status AND name = @name ${LIST_TAIL}`,
} as const;

// Counts read the counters the write transactions keep (journal.ts): a few rows, whatever the table's size.
// status codes are indexes in JOB_STATUSES (journal.ts STATUS_CODE).
export const COUNT_BY_STATUS = `SELECT key AS status, sum(n) AS n FROM spool_counters WHERE kind = 0 GROUP BY key`;
export const COUNT_BY_STATUS_OF_NAME = `SELECT key AS status, n FROM spool_counters WHERE kind = 0 AND name = @name`;
/** Status counts (kind 0) and last claims (kind 3) of every name, one statement. */
export const NAME_STATS = `SELECT name, kind, key, n FROM spool_counters WHERE kind IN (0, 3) AND (kind = 3 OR n <> 0) ORDER BY name`;
export const THROUGHPUT = `
  SELECT key AS minute, sum(iif(kind = 1, n, 0)) AS completed, sum(iif(kind = 2, n, 0)) AS failed
    FROM spool_counters WHERE kind IN (1, 2) AND key >= @since AND (@name IS NULL OR name = @name)
   GROUP BY key ORDER BY key`;
export const COUNT_BY_NAME_AND_STATUS = `SELECT name, key AS status, n FROM spool_counters WHERE kind = 0 AND n <> 0`;

export const RETRY_JOB = `
  UPDATE spool_jobs
     SET status = 'pending', attempts = 0, run_at = @now, error = NULL, error_stack = NULL, result = NULL,
         progress = NULL, started_at = NULL, completed_at = NULL, lease_until = NULL, processing_by = NULL,
         cancel_requested = 0, prev_status = ${STATUS_CODE_SQL}
   WHERE id = @id AND status IN ('failed', 'cancelled')
  RETURNING *`;

// Pending jobs are cancelled at once; running ones get a request their worker learns at its next tick.
export const CANCEL_JOB = `
  UPDATE spool_jobs
     SET status = CASE status WHEN 'pending' THEN 'cancelled' ELSE status END,
         completed_at = CASE status WHEN 'pending' THEN @now ELSE completed_at END,
         cancel_requested = CASE status WHEN 'running' THEN 1 ELSE cancel_requested END
   WHERE id = @id AND status IN ('pending', 'running')
  RETURNING *`;

export const DELETE_JOB = `DELETE FROM spool_jobs WHERE id = @id RETURNING *`;

// Oldest first through the status index; finished jobs of one status are close to id order.
export const PRUNE_JOBS = `
  DELETE FROM spool_jobs
   WHERE id IN (SELECT id FROM spool_jobs
                 WHERE status IN (SELECT value FROM json_each(@statuses)) AND completed_at < @before
                 ORDER BY id LIMIT @limit)
  RETURNING name, status`;

// Bulk actions by ids (one chunk of at most 1,000, chosen by filter-statements.ts chunkSql in the same transaction).
// A retry whose uniqueKey is held again by a live job is skipped (OR IGNORE), as retry() would refuse it.
export const BULK_RETRY = `
  UPDATE OR IGNORE spool_jobs
     SET status = 'pending', attempts = 0, run_at = @now, error = NULL, error_stack = NULL, result = NULL,
         progress = NULL, started_at = NULL, completed_at = NULL, lease_until = NULL, processing_by = NULL,
         cancel_requested = 0, prev_status = ${STATUS_CODE_SQL}
   WHERE id IN (SELECT value FROM json_each(@ids)) AND status IN ('failed', 'cancelled')
  RETURNING id, name, prev_status, parent_id`;
export const BULK_CANCEL = `
  UPDATE spool_jobs
     SET status = CASE status WHEN 'pending' THEN 'cancelled' ELSE status END,
         completed_at = CASE status WHEN 'pending' THEN @now ELSE completed_at END,
         cancel_requested = CASE status WHEN 'running' THEN 1 ELSE cancel_requested END
   WHERE id IN (SELECT value FROM json_each(@ids)) AND (status = 'pending' OR (status = 'running' AND cancel_requested = 0))
  RETURNING id, name, status, parent_id`;
export const BULK_DELETE = `DELETE FROM spool_jobs WHERE id IN (SELECT value FROM json_each(@ids)) RETURNING id, name, status, parent_id`;
export const MAX_ID = `SELECT coalesce(max(id), 0) AS id FROM spool_jobs`;

/** The journal row of one write transaction (journal.ts); a trigger applies its deltas to the counters. */
export const INSERT_CHANGE = `INSERT INTO spool_changes (at, events, deltas) VALUES (@at, @events, @deltas)`;

/** Journal rows a reader may still need; older ones go (a reader that far behind re-reads: a gap). */
export const PRUNE_CHANGES = `DELETE FROM spool_changes WHERE seq <= @upTo`;
export const PRUNE_MINUTES = `DELETE FROM spool_counters WHERE kind IN (1, 2) AND key < @before`;

/** The last journal seq handed out (0 for none): where a new reader starts. */
export const LAST_CHANGE = `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'spool_changes'), 0) AS seq`;

/**
 * The change feed's read, ONE statement per batch: up to @rows journal rows after @since, each change in them
 * with the job as it is now (NULL columns for a deleted job), filtered to the reader's interest. The first row
 * is a summary (type NULL) with the first and last seq read, so a reader knows how far it got even when
 * nothing matched, and sees a hole (rows pruned before it read them).
 */
export const READ_CHANGES = `
  WITH c AS (SELECT seq, events FROM spool_changes WHERE seq > @since ORDER BY seq LIMIT @rows)
  SELECT NULL AS type, NULL AS ref, min(seq) AS seq, max(seq) AS last, NULL AS job_id,
         ${JOB_ROW_COLUMNS.map((c) => `NULL AS ${c}`).join(', ')}
    FROM c
  UNION ALL
  SELECT e.key, v.value, c.seq, NULL, j.id, ${JOB_ROW_COLUMNS.map((col) => `j.${col}`).join(', ')}
    FROM c JOIN json_each(c.events) AS e JOIN json_each(e.value) AS v
    LEFT JOIN spool_jobs AS j ON j.id = iif(e.key = 'deleted', v.value ->> 0, v.value)
   WHERE @all OR e.key = 'deleted'
      OR v.value IN (SELECT value FROM json_each(@ids))
      OR j.name IN (SELECT value FROM json_each(@names))`;
