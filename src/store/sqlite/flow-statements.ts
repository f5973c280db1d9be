import { FLOW_WAIT_AT } from '../../flows/flow.ts';

/*
 * The statements that keep flows moving on SQLite (src/flows/flow.ts). SQLite has one writer, so a parent's
 * state is recounted from its children inside the transaction that finished, cancelled, deleted or retried
 * some of them: exact, and run only when that transaction touched children (one statement per transaction,
 * not per job). A waiting parent is pending with run_at = FLOW_WAIT_AT, so the claim never takes it.
 */

/** The parent row, waiting: inserted before its children, which carry its id (last_insert_rowid). */
export const INSERT_FLOW_PARENT = `
  INSERT INTO spool_jobs (name, data, priority, run_at, max_attempts, backoff, timeout_ms, created_at, status, attempts,
                          trace_context, children_total, children_left)
  VALUES (@name, @data, @priority, ${FLOW_WAIT_AT}, @maxAttempts, @backoff, @timeout, @now, 'pending', 0, @traceContext, @total, @total)
  RETURNING id`;

export const INSERT_FLOW_CHILDREN = `
  INSERT INTO spool_jobs (name, data, priority, run_at, max_attempts, backoff, timeout_ms, created_at, status, attempts,
                          trace_context, parent_id, on_failure)
  SELECT value ->> '$.name', json_extract(value, '$.data'), value ->> '$.priority', value ->> '$.runAt', value ->> '$.maxAttempts',
         value ->> '$.backoff', value ->> '$.timeout', @now, 'pending', 0, value ->> '$.traceContext', @parent, value ->> '$.onFailure'
    FROM json_each(@jobs)
   ORDER BY key
  RETURNING id, name`;

/**
 * Recounts the parents in @parents that still wait: the first child under 'fail' that failed fails the parent
 * (its error names the child); else no child left pending or running makes it due now. Both counts come from
 * the (parent_id, status) index. Returns [id, name, status, run_at] of each parent it wrote.
 */
export const FLOW_SETTLE = `
  UPDATE spool_jobs
     SET status = iif(s.failed IS NULL, 'pending', 'failed'),
         run_at = iif(s.failed IS NULL AND s.live = 0, @now, spool_jobs.run_at),
         children_left = s.live,
         error = iif(s.failed IS NULL, spool_jobs.error, 'child ' || s.failed),
         completed_at = iif(s.failed IS NULL, spool_jobs.completed_at, @now)
    FROM (SELECT q.id,
                 (SELECT count(*) FROM spool_jobs c WHERE c.parent_id = q.id AND c.status IN ('pending', 'running')) AS live,
                 (SELECT c.id || ' (' || c.name || ') failed: ' || coalesce(c.error, '') FROM spool_jobs c
                   WHERE c.parent_id = q.id AND c.status = 'failed' AND c.on_failure = 'fail' ORDER BY c.id LIMIT 1) AS failed
            FROM spool_jobs q WHERE q.id IN (SELECT value FROM json_each(@parents))) AS s
   WHERE spool_jobs.id = s.id AND spool_jobs.status = 'pending' AND spool_jobs.run_at = ${FLOW_WAIT_AT}
  RETURNING spool_jobs.id, spool_jobs.name, spool_jobs.status, spool_jobs.run_at`;

/**
 * A retried child reopens its parent if the parent failed because of a child (it never started): waiting
 * again; FLOW_SETTLE then recounts it (and fails it again if another child under 'fail' is still failed).
 */
export const FLOW_REOPEN = `
  UPDATE spool_jobs
     SET status = 'pending', run_at = ${FLOW_WAIT_AT}, error = NULL, error_stack = NULL, completed_at = NULL
   WHERE id IN (SELECT value FROM json_each(@parents)) AND status = 'failed' AND started_at IS NULL AND children_total IS NOT NULL
  RETURNING id, name`;

/** A parent's children, oldest first, through the parent index; @ignored 0 leaves out failures under 'ignore'. */
export const SELECT_CHILDREN = `
  SELECT * FROM spool_jobs
   WHERE parent_id = @parent AND (@ignored OR status <> 'failed' OR on_failure <> 'ignore')
   ORDER BY id`;
