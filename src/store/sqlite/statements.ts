/**
 * Every SQL statement the SQLite store runs, named. Batches travel as one JSON parameter read with
 * json_each, so a statement's text (and its prepared plan) is the same for 1 job or 1,000.
 *
 * The unary `+` in `+spool_jobs.status` keeps the planner off the status index in the batch updates: with
 * it, each row of the batch is one primary-key lookup; without it SQLite walked every running job and
 * probed the JSON for each (finish of 10 jobs: 0.1 ms → O(running × batch)).
 */

export const INSERT_JOBS = `
  INSERT INTO spool_jobs (name, data, priority, run_at, max_attempts, backoff, timeout_ms, unique_key, created_at,
                          status, attempts, processing_by, lease_until, started_at)
  SELECT json_extract(value, '$.name'), json_extract(value, '$.data'), json_extract(value, '$.priority'),
         json_extract(value, '$.runAt'), json_extract(value, '$.maxAttempts'), json_extract(value, '$.backoff'),
         json_extract(value, '$.timeout'), json_extract(value, '$.uniqueKey'), @now,
         -- A job handed straight to an idle worker of this process is inserted claimed.
         iif(value ->> '$.claimedBy' IS NULL, 'pending', 'running'), iif(value ->> '$.claimedBy' IS NULL, 0, 1),
         value ->> '$.claimedBy', value ->> '$.leaseUntil', iif(value ->> '$.claimedBy' IS NULL, NULL, @now)
    FROM json_each(@jobs)
   WHERE true
   ORDER BY key
  ON CONFLICT DO NOTHING
  RETURNING id, unique_key`;

export const SELECT_IDS_BY_UNIQUE_KEY = `
  SELECT id, unique_key FROM spool_jobs
   WHERE unique_key IN (SELECT value FROM json_each(@keys)) AND status IN ('pending', 'running')`;

/**
 * What a claim returns, as raw arrays in this order: the fields a claim does not set. RETURNING * as
 * objects cost 9.5 µs a row; these 15 columns as arrays 5.9 µs (claims of 200, bench .tmp/claimbench).
 */
export const CLAIMED_COLUMNS = [
  'id', 'name', 'data', 'priority', 'attempts', 'max_attempts', 'backoff', 'timeout_ms', 'progress',
  'error', 'error_stack', 'run_at', 'created_at', 'cancel_requested', 'unique_key',
] as const;

// Lease-expired jobs first (they have waited longest), then due pending jobs in priority order. Expired
// leases are found among the running rows through the status index: the running set is small (the slots
// of live workers), and a lease index of its own cost two more index writes per job.
export const CLAIM_JOBS = `
  UPDATE spool_jobs
     SET status = 'running', attempts = attempts + 1, processing_by = @workerId,
         lease_until = @leaseUntil, started_at = @now
   WHERE id IN (
     SELECT id FROM (
       SELECT id FROM spool_jobs INDEXED BY spool_jobs_status_id
        WHERE status = 'running' AND lease_until < @now
          AND name IN (SELECT value FROM json_each(@names))
        LIMIT @limit)
     UNION ALL
     SELECT id FROM (
       SELECT id FROM spool_jobs INDEXED BY spool_jobs_runnable
        WHERE status = 'pending' AND run_at <= @now
          AND name IN (SELECT value FROM json_each(@names))
        ORDER BY priority DESC, run_at, id
        LIMIT @limit)
     LIMIT @limit)
  RETURNING ${CLAIMED_COLUMNS.join(', ')}`;

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
  RETURNING spool_jobs.id AS id`;

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
         completed_at = CASE WHEN o.status IN ('completed', 'failed', 'cancelled') OR spool_jobs.cancel_requested = 1 THEN @now END,
         lease_until = NULL,
         cancel_requested = 0
    FROM (SELECT value ->> '$.id' AS id, value ->> '$.status' AS status, value ->> '$.result' AS result,
                 value ->> '$.progress' AS progress, value ->> '$.error' AS error,
                 value ->> '$.errorStack' AS error_stack, value ->> '$.runAt' AS run_at
            FROM json_each(@outcomes)) AS o
   WHERE spool_jobs.id = o.id AND +spool_jobs.status = 'running' AND +spool_jobs.processing_by = @workerId
  RETURNING spool_jobs.id AS id, spool_jobs.status AS status`;

export const SET_PROGRESS = `
  UPDATE spool_jobs SET progress = t.progress
    FROM (SELECT value ->> 0 AS id, value ->> 1 AS progress FROM json_each(@entries)) AS t
   WHERE spool_jobs.id = t.id AND +spool_jobs.status IN ('pending', 'running')
  RETURNING spool_jobs.id AS id`;

export const SELECT_JOB = `SELECT * FROM spool_jobs WHERE id = @id`;

// Listing: one statement per filter shape so each uses its own index; newest first, keyset by id.
const LIST_TAIL = `AND id < @cursor ORDER BY id DESC LIMIT @limit OFFSET @offset`;
export const LIST_JOBS = {
  all: `SELECT * FROM spool_jobs WHERE true ${LIST_TAIL}`,
  status: `SELECT * FROM spool_jobs WHERE status = @status ${LIST_TAIL}`,
  name: `SELECT * FROM spool_jobs WHERE name = @name ${LIST_TAIL}`,
  statusAndName: `SELECT * FROM spool_jobs WHERE status = @status AND name = @name ${LIST_TAIL}`,
} as const;

export const COUNT_BY_STATUS = `SELECT status, count(*) AS n FROM spool_jobs GROUP BY status`;
export const COUNT_BY_STATUS_OF_NAME = `SELECT status, count(*) AS n FROM spool_jobs WHERE name = @name GROUP BY status`;
export const COUNT_BY_NAME_AND_STATUS = `SELECT name, status, count(*) AS n FROM spool_jobs GROUP BY name, status`;

export const RETRY_JOB = `
  UPDATE spool_jobs
     SET status = 'pending', attempts = 0, run_at = @now, error = NULL, error_stack = NULL, result = NULL,
         progress = NULL, started_at = NULL, completed_at = NULL, lease_until = NULL, processing_by = NULL,
         cancel_requested = 0
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
                 ORDER BY id LIMIT @limit)`;
