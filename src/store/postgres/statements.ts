import { ERRORS_KEPT } from '../../job.ts';
import { claimedAt, countedCte, endedInMinute, moves } from './counters.ts';
import { FLOW_COLUMNS, FLOW_SELECT, FLOW_WAIT_TS, flowRecount, flowReopen, flowSettle } from './flow-statements.ts';
import { quoteIdent } from './schema.ts';

/**
 * Every SQL statement the PostgreSQL store runs, built once per schema and sent as named (prepared)
 * statements. Batches travel as one JSON parameter read with json_to_recordset, so a statement's text and
 * its prepared plan are the same for 1 job or 1,000. Times arrive as epoch milliseconds from the caller's
 * clock (never NOW()), so an injected clock governs the SQL too.
 *
 * Statements that change jobs send at most ONE NOTIFY each, from a CTE of the same statement: the change
 * feed costs no extra statement or round trip, and NOTIFY's commit-time lock is taken once per batch.
 */

/** A named statement: `name` identifies its prepared plan on each connection. */
export interface Statement {
  name: string;
  text: string;
}

/** The columns of a job, in the order every job-returning statement gives them. */
export const JOB_COLUMNS = [
  'id', 'name', 'data', 'status', 'priority', 'attempts', 'max_attempts', 'backoff', 'timeout_ms', 'progress',
  'result', 'error', 'error_stack', 'run_at', 'created_at', 'started_at', 'completed_at', 'processing_by',
  'lease_until', 'cancel_requested', 'unique_key', 'errors', 'trace_context', ...FLOW_COLUMNS,
] as const;

/**
 * `errors` (json) with one failed attempt appended, the oldest dropped beyond 20: `attempt`, `message`,
 * `stack` and `workerId` are SQL expressions; `at` a parameter of epoch ms.
 */
export function appendError(errors: string, e: { attempt: string; at: string; message: string; stack: string; workerId: string }): string {
  const list = `coalesce(${errors}::jsonb, '[]'::jsonb)`;
  return `((CASE WHEN jsonb_array_length(${list}) >= ${ERRORS_KEPT} THEN ${list} - 0 ELSE ${list} END)
      || jsonb_build_array(jsonb_build_object('attempt', ${e.attempt}, 'at', ${e.at}::float8, 'message', ${e.message}, 'stack', ${e.stack}, 'workerId', ${e.workerId})))::json`;
}

/**
 * What a claim returns of each job: the rest (status, result, started/completed/lease times, worker) is known
 * to the claimer, so the rows stay narrow (rows.ts claimedRowToJob): 17 columns instead of 23, and two
 * timestamps fewer to format and parse per job. The attempt history and the trace context come along: the
 * handler sees its job's earlier failures, and its span continues the producer's trace.
 */
export const CLAIMED_COLUMNS = [
  'id', 'name', 'data', 'priority', 'attempts', 'max_attempts', 'backoff', 'timeout_ms', 'progress', 'error',
  'error_stack', 'run_at', 'created_at', 'cancel_requested', 'unique_key', 'errors', 'trace_context',
] as const;

/**
 * Timestamps travel as epoch milliseconds (float8), not timestamptz: formatting a timestamptz on the server
 * and parsing it back into a Date in node (a regular expression per value) cost more than the row's other
 * columns together in a drain profile; a number is parsed with parseFloat.
 */
const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set(['run_at', 'created_at', 'started_at', 'completed_at', 'lease_until']);

/** `columns` of `alias` as a select list, timestamps as epoch ms under their own names. */
export function selectList(alias: string, columns: readonly string[]): string {
  return columns.map((c) => (TIMESTAMP_COLUMNS.has(c) ? `date_part('epoch', ${alias}.${c}) * 1000 AS ${c}` : `${alias}.${c}`)).join(', ');
}

/** Largest NOTIFY payload we send; PostgreSQL refuses 8,000 bytes and more. */
export const MAX_PAYLOAD_BYTES = 7_900;

export const ts = (param: string) => `to_timestamp(${param}::float8 / 1000)`;

/**
 * The change-feed tail of a statement. `ev` must be a CTE of (type, id, name, run_at) rows; the result is
 * CTEs that group them by type and send one NOTIFY whose payload itemises ids and names per type:
 * `[{"t":"added","i":["1","2"],"n":["mail"],"r":<min runAt ms>}]`. A payload that would not fit gives
 * counts instead of ids (`"c"`), and if even that does not fit, the bare string "external".
 * The main query must reference `note` (see GATE) or PostgreSQL would never run it.
 */
export function notifyCtes(channel: string): string {
  return `
  ev_groups AS (
    SELECT type, array_agg(id::text ORDER BY id) AS ids, array_agg(DISTINCT name) AS names, count(*) AS n,
           (extract(epoch FROM min(run_at)) * 1000)::bigint AS r
      FROM ev GROUP BY type),
  ev_payload AS (
    SELECT json_agg(json_build_object('t', type, 'i', ids, 'n', names, 'r', r))::text AS full_text,
           json_agg(json_build_object('t', type, 'c', n, 'n', names, 'r', r))::text AS brief_text
      FROM ev_groups),
  note AS (
    SELECT pg_notify('${channel}', CASE WHEN octet_length(full_text) <= ${MAX_PAYLOAD_BYTES} THEN full_text
                                        WHEN octet_length(brief_text) <= ${MAX_PAYLOAD_BYTES} THEN brief_text
                                        ELSE '"external"' END) AS sent
      FROM ev_payload WHERE full_text IS NOT NULL)`;
}

/*
 * Batch updates (finish, tick, setProgress) state their guard against columns of the batch
 * (`j.status = o.held_as AND j.processing_by = o.held_by`), not as constants: the jobs table then has no
 * restriction of its own, so the planner drives the join from the batch through primary-key lookups. The
 * batch CTE is MATERIALIZED so the planner cannot fold those columns back into constants.
 * With constants and no statistics it took the running rows (estimated 1) as the outer side and re-ran
 * json_to_recordset for each of them: a finish of 400 outcomes with 800 jobs running took 56 ms,
 * O(running × batch) (.tmp/pgfinish.ts).
 */

/** A one-time filter that makes PostgreSQL run the `note` CTE (once) before returning any row. */
export const GATE = `(SELECT count(*) FROM note) >= 0`;

/** Builds every statement for one schema and its NOTIFY channel. */
export function buildStatements(schema: string, channel: string) {
  const S = quoteIdent(schema);
  // Pending and running jobs; finished ones; both (a view, for reads). See schema.ts for the layout.
  const L = `${S}.jobs_live`;
  const D = `${S}.jobs_done`;
  const V = `${S}.jobs`;
  const C = `${S}.counters`;
  const name = (key: string) => `spool:${schema}:${key}`;
  const cols = (alias: string) => selectList(alias, JOB_COLUMNS);
  const allColumns = JOB_COLUMNS.join(', ');
  const notify = notifyCtes(channel);

  // The finishing CTEs shared by claim (which may carry outcomes in the same round trip) and finish.
  // Only jobs still running under this worker are touched. Final outcomes move the job: DELETE from the
  // live table feeding an INSERT into the finished one. Retries and releases stay live, pending again —
  // unless a cancel was requested meanwhile (by another process, learnt by no tick yet): then they end
  // cancelled instead, or the request was cleared and the job ran again. `finished.status` is the new status.
  // $1 the outcomes other than completions (JSON), $2 workerId, $3 now; completions as three arrays at
  // `c` (ids), c + 1 (result JSON texts), c + 2 (progress JSON texts or NULL): 20 bytes a job on the wire
  // where a JSON object with every field spelled out took 105, and its socket writes were 19% of a
  // drain's node CPU in a profile.
  // Children finishing move their parents on (flow-statements.ts); nothing happens for a batch without children.
  const finishFlow = flowSettle({
    L, D, prefix: 'fin_flow', now: '$3', all: allColumns,
    source: 'SELECT id, name, parent_id, outcome AS status, new_error AS error, on_failure FROM ended',
  });
  const finishCtes = (c: number) => `
  fin AS MATERIALIZED (
    SELECT u.id, 'completed'::text AS status, u.result, u.progress, NULL::text AS error, NULL::text AS error_stack,
           NULL::float8 AS run_at, $2::text AS held_by, 'running'::text AS held_as
      FROM unnest($${c}::bigint[], $${c + 1}::text[], $${c + 2}::text[]) AS u(id, result, progress)
    UNION ALL
    SELECT o.*, $2::text, 'running'::text FROM json_to_recordset($1::json)
      AS o(id bigint, status text, result text, progress text, error text, error_stack text, run_at float8)),
  ended AS (
    DELETE FROM ${L} j USING fin o
     WHERE j.id = o.id AND j.status = o.held_as AND j.processing_by = o.held_by
       AND (o.status IN ('completed', 'failed', 'cancelled') OR j.cancel_requested)
    RETURNING j.*, CASE WHEN o.status IN ('retry', 'released') THEN 'cancelled' ELSE o.status END AS outcome,
              o.result AS new_result, o.progress AS new_progress,
              CASE WHEN o.status = 'released' THEN 'cancelled by request' ELSE o.error END AS new_error,
              CASE WHEN o.status = 'released' THEN j.error_stack ELSE o.error_stack END AS new_error_stack,
              o.status AS reported),
  archived AS (
    INSERT INTO ${D} (${allColumns})
    SELECT id, name, data, outcome, priority,
           -- Never more attempts than allowed: a job whose last attempt died with its worker is claimed once
           -- more (attempts + 1) only to be failed or cancelled without running.
           CASE WHEN outcome IN ('failed', 'cancelled') THEN LEAST(attempts, max_attempts) ELSE attempts END,
           max_attempts, backoff, timeout_ms, coalesce(new_progress::json, progress),
           CASE WHEN outcome = 'completed' THEN new_result::json ELSE result END,
           CASE WHEN outcome = 'completed' THEN error ELSE new_error END,
           CASE WHEN outcome = 'completed' THEN error_stack ELSE new_error_stack END,
           run_at, created_at, started_at, ${ts('$3')}, processing_by, NULL, false, unique_key,
           -- A failed attempt goes into the history, also when a cancel request then ends the job.
           CASE WHEN reported IN ('failed', 'retry')
                THEN ${appendError('errors', { attempt: 'LEAST(attempts, max_attempts)', at: '$3', message: 'new_error', stack: 'new_error_stack', workerId: '$2::text' })}
                ELSE errors END,
           trace_context${FLOW_SELECT}
      FROM ended),
  requeued AS (
    UPDATE ${L} j
       SET status = 'pending',
           progress = coalesce(o.progress::json, j.progress),
           error = CASE WHEN o.status = 'retry' THEN o.error ELSE j.error END,
           error_stack = CASE WHEN o.status = 'retry' THEN o.error_stack ELSE j.error_stack END,
           run_at = CASE WHEN o.status = 'retry' THEN to_timestamp(o.run_at / 1000) ELSE j.run_at END,
           attempts = CASE WHEN o.status = 'released' THEN j.attempts - 1 ELSE j.attempts END,
           errors = CASE WHEN o.status = 'retry'
                         THEN ${appendError('j.errors', { attempt: 'j.attempts', at: '$3', message: 'o.error', stack: 'o.error_stack', workerId: '$2::text' })}
                         ELSE j.errors END,
           lease_until = NULL,
           cancel_requested = false
      FROM fin o
     WHERE j.id = o.id AND j.status = o.held_as AND j.processing_by = o.held_by AND o.status IN ('retry', 'released')
       AND NOT j.cancel_requested
    RETURNING j.id, j.name, j.run_at),
  finished AS (
    SELECT id, name, run_at, outcome AS status FROM ended
    UNION ALL
    SELECT id, name, run_at, 'pending' AS status FROM requeued),${finishFlow.ctes}`;
  // What the finishing CTEs change in the counters (counters.ts): moves out of running, completions per minute.
  const finishDeltas = [
    moves('ended', "'running'", 'outcome'),
    moves('requeued', "'running'", "'pending'"),
    endedInMinute('ended', 'outcome', '$3'),
    ...finishFlow.deltas,
  ];
  const finishEvents = `
    SELECT CASE status WHEN 'pending' THEN 'retrying' ELSE status END AS type, id, name, run_at
      FROM finished
    UNION ALL ${finishFlow.events}`;

  // Moves the rows of `from` (a CTE of whole live rows) into the finished table as `status`, finished at $2.
  const archive = (from: string, status: string) => `
    INSERT INTO ${D} AS j (${allColumns})
    SELECT id, name, data, '${status}', priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error, error_stack,
           run_at, created_at, started_at, ${ts('$2')}, processing_by, NULL, false, unique_key, errors, trace_context${FLOW_SELECT}
      FROM ${from}
    RETURNING ${cols('j')}`;
  // A cancelled or deleted child moves its parent on; a retried one counts again (flow-statements.ts).
  const cancelFlow = flowSettle({ L, D, prefix: 'flow', now: '$2', all: allColumns, source: "SELECT id, name, parent_id, status, error, on_failure FROM archived" });
  const deleteFlow = flowSettle({
    L, D, prefix: 'flow', now: '$2', all: allColumns, exclude: 'SELECT id FROM live',
    source: "SELECT id, name, parent_id, 'deleted'::text AS status, error, on_failure FROM live",
  });
  const retryFlow = flowReopen({ L, D, prefix: 'flow', all: allColumns, source: 'SELECT id, parent_id FROM gone', retried: 'SELECT id FROM gone' });

  // The claim; \`due\` selects the pending jobs to take (the plain claim: in claim order; the limit-aware one: chosen ids).
  const claimText = (due: string) => `
  WITH ${finishCtes(7)},
  expired AS (
    SELECT id FROM ${L}
     WHERE status = 'running' AND lease_until < ${ts('$3')} AND name = ANY($5::text[])
       AND id NOT IN (SELECT id FROM fin)
     ORDER BY lease_until
     LIMIT $6
       FOR UPDATE SKIP LOCKED),
  due AS (${due}),
  claimed AS (
    UPDATE ${L} j
       SET status = 'running', attempts = j.attempts + 1, processing_by = $2,
           lease_until = ${ts('$4')}, started_at = ${ts('$3')},
           -- A lease-expired job taken back: its lost attempt goes into the history (SET sees the old row).
           errors = CASE WHEN j.status = 'running'
                         THEN ${appendError('j.errors', {
                           attempt: 'j.attempts', at: '$3',
                           message: `'lease expired: worker ' || coalesce(j.processing_by, '?') || ' stopped renewing it (it died, hung or lost the database)'`,
                           stack: 'NULL::text', workerId: 'j.processing_by',
                         })}
                         ELSE j.errors END
     WHERE j.id = ANY(ARRAY(SELECT id FROM expired UNION ALL SELECT id FROM due))
    RETURNING ${CLAIMED_COLUMNS.map((c) => `j.${c}`).join(', ')}),
  ev AS (
    SELECT 'started'::text AS type, id, name, run_at FROM claimed
    UNION ALL ${finishEvents}),${notify},${countedCte(C, [
    ...finishDeltas,
    moves('claimed', "'pending'", "'running'", 'id IN (SELECT id FROM due)'),
    claimedAt('claimed', '$3'),
  ])}
  SELECT false AS fin, ${selectList('c', CLAIMED_COLUMNS)} FROM claimed c WHERE ${GATE}
  UNION ALL
  SELECT true, f.id, f.status, ${CLAIMED_COLUMNS.slice(2).map(() => 'NULL').join(', ')} FROM finished f`;

  return {
    // $1 jobs [{i, name, data (JSON), priority, run_at, max_attempts, backoff?, timeout_ms?, unique_key?, claimed_by?,
    // lease_until?}], $2 now.
    // Returns the inserted rows (inserted = true) and the live holders of the batch's unique keys that
    // existed before the statement (inserted = false), in one round trip.
    enqueue: {
      name: name('enqueue'),
      text: `
  WITH input AS (
    SELECT * FROM json_to_recordset($1::json)
      AS j(i integer, name text, data json, priority integer, run_at float8, max_attempts integer,
           backoff json, timeout_ms integer, unique_key text, claimed_by text, lease_until float8, trace_context json,
           concurrency_key text)),
  inserted AS (
    INSERT INTO ${L} (name, data, priority, run_at, max_attempts, backoff, timeout_ms, unique_key, created_at,
                      status, attempts, processing_by, lease_until, started_at, trace_context, concurrency_key)
    -- Data JSON null comes out of the recordset as SQL NULL: store it as the JSON null it was.
    SELECT name, coalesce(data, 'null'::json), priority, to_timestamp(run_at / 1000), max_attempts, backoff, timeout_ms,
           unique_key, ${ts('$2')},
           -- A job handed straight to an idle worker of the enqueuing process is inserted claimed.
           CASE WHEN claimed_by IS NULL THEN 'pending' ELSE 'running' END, CASE WHEN claimed_by IS NULL THEN 0 ELSE 1 END,
           claimed_by, to_timestamp(lease_until / 1000), CASE WHEN claimed_by IS NOT NULL THEN ${ts('$2')} END,
           trace_context::json, concurrency_key
      FROM input ORDER BY i
    ON CONFLICT DO NOTHING
    RETURNING id, name, run_at, unique_key, status),
  held AS (
    SELECT id, unique_key FROM ${L}
     WHERE unique_key IN (SELECT unique_key FROM input WHERE unique_key IS NOT NULL)),
  ev AS (SELECT 'added'::text AS type, id, name, run_at FROM inserted),${notify},${countedCte(C, [
    moves('inserted', null, 'status'),
    claimedAt('inserted', '$2', "status = 'running'"),
  ])}
  SELECT id, unique_key, true AS inserted FROM inserted WHERE ${GATE}
  UNION ALL
  SELECT id, unique_key, false FROM held`,
    },

    // $1 the parent [{name, data, priority, max_attempts, backoff?, timeout_ms?, trace_context?}], $2 its children as for
    // enqueue plus on_failure, $3 now. One statement whatever the number of children: the parent waits (run_at =
    // FLOW_WAIT_AT, children_left = all of them), the children carry its id. Rows: the parent's id (parent = true),
    // then the children's.
    enqueueFlow: {
      name: name('enqueue-flow'),
      text: `
  WITH input AS (
    SELECT * FROM json_to_recordset($2::json)
      AS j(i integer, name text, data json, priority integer, run_at float8, max_attempts integer,
           backoff json, timeout_ms integer, trace_context json, on_failure text)),
  parent AS (
    INSERT INTO ${L} (name, data, priority, run_at, max_attempts, backoff, timeout_ms, created_at, status, attempts,
                      trace_context, children_total, children_left)
    SELECT name, coalesce(data, 'null'::json), priority, ${FLOW_WAIT_TS}, max_attempts, backoff, timeout_ms, ${ts('$3')},
           'pending', 0, trace_context, (SELECT count(*) FROM input), (SELECT count(*) FROM input)
      FROM json_to_recordset($1::json)
        AS j(name text, data json, priority integer, max_attempts integer, backoff json, timeout_ms integer, trace_context json)
    RETURNING id, name, run_at),
  children AS (
    INSERT INTO ${L} (name, data, priority, run_at, max_attempts, backoff, timeout_ms, created_at, status, attempts,
                      trace_context, parent_id, on_failure)
    SELECT name, coalesce(data, 'null'::json), priority, to_timestamp(run_at / 1000), max_attempts, backoff, timeout_ms,
           ${ts('$3')}, 'pending', 0, trace_context, (SELECT id FROM parent), on_failure
      FROM input ORDER BY i
    RETURNING id, name, run_at),
  ev AS (SELECT 'added'::text AS type, id, name, run_at FROM parent UNION ALL SELECT 'added', id, name, run_at FROM children),${notify},${countedCte(C, [
    moves('parent', null, "'pending'"),
    moves('children', null, "'pending'"),
  ])}
  SELECT id, true AS parent FROM parent WHERE ${GATE}
  UNION ALL
  SELECT id, false FROM children`,
    },

    // $1 parent id: its children, oldest first, from both tables through their parent indexes.
    // $2 false: failed children under 'ignore' left out.
    selectChildren: {
      name: name('select-children'),
      text: `SELECT ${cols('j')} FROM ${V} j WHERE j.parent_id = $1 AND ($2 OR j.status <> 'failed' OR j.on_failure <> 'ignore') ORDER BY j.id`,
    },

    // $1 parent ids, $2 now: after a retry of their children (flow-statements.ts flowRecount).
    flowRecount: { name: name('flow-recount'), text: flowRecount({ L, notify, gate: GATE }) },

    // $1 unique keys: the holders, for keys whose holder committed while the enqueue ran.
    idsByUniqueKey: {
      name: name('ids-by-unique-key'),
      text: `SELECT id, unique_key FROM ${L} WHERE unique_key = ANY($1::text[])`,
    },

    // $1 outcomes (JSON, all but completions), $2 workerId, $3 now, $4 leaseUntil, $5 names, $6 limit, $7-$9 completions.
    // Writes the outcomes, then takes lease-expired running jobs (a dead worker's; they have waited longest),
    // then due pending jobs in claim order, SKIP LOCKED so concurrent claims never wait on each other.
    // Jobs being finished here are excluded: one statement must not update a row twice.
    // The ids are collected first (an InitPlan) and the UPDATE finds them by primary key: written as
    // `id IN (SELECT …)`, an analysed 20,000-row table got a hash semi-join over a sequential scan of it.
    // Rows: fin = false for each claimed job (all columns), fin = true with the id of each outcome applied and,
    // in the `name` column, the job's new status (a retry or release may have ended it cancelled).
    claim: { name: name('claim'), text: claimText(`
    SELECT id FROM ${L}
     WHERE status = 'pending' AND run_at <= ${ts('$3')} AND name = ANY($5::text[])
     ORDER BY priority DESC, run_at, id
     LIMIT greatest($6 - (SELECT count(*) FROM expired), 0)
       FOR UPDATE SKIP LOCKED`) },

    // The limit-aware claim's last step (limited-claim.ts): lease-expired jobs of $5, then the pending jobs
    // its plan chose ($10), still pending. Run inside the transaction that holds the names' control rows.
    claimChosen: { name: name('claim-chosen'), text: claimText(`
    SELECT id FROM ${L} WHERE id = ANY($10::bigint[]) AND status = 'pending'
       FOR UPDATE SKIP LOCKED`) },

    // $1 outcomes (JSON, all but completions), $2 workerId, $3 now, $4-$6 completions. Returns the ids applied
    // with their new status.
    finish: {
      name: name('finish'),
      text: `
  WITH ${finishCtes(4)},
  ev AS (${finishEvents}),${notify},${countedCte(C, finishDeltas)}
  SELECT id, status FROM finished WHERE ${GATE}`,
    },

    // $1 [{id, progress}], $2 workerId, $3 leaseUntil. One row per job still held; rows missing were lost.
    tick: {
      name: name('tick'),
      text: `
  WITH t AS MATERIALIZED (SELECT t.*, $2::text AS held_by, 'running'::text AS held_as FROM json_to_recordset($1::json) AS t(id bigint, progress text)),
  ticked AS (
    UPDATE ${L} j
       SET lease_until = ${ts('$3')}, progress = coalesce(t.progress::json, j.progress)
      FROM t
     WHERE j.id = t.id AND j.status = t.held_as AND j.processing_by = t.held_by
    RETURNING j.id, j.name, j.run_at, j.cancel_requested, t.progress IS NOT NULL AS wrote),
  ev AS (SELECT 'progress'::text AS type, id, name, run_at FROM ticked WHERE wrote),${notify}
  SELECT id, cancel_requested FROM ticked WHERE ${GATE}`,
    },

    // $1 [{id, progress}]: progress of live (pending or running) jobs. Returns the ids written.
    setProgress: {
      name: name('set-progress'),
      text: `
  WITH t AS MATERIALIZED (SELECT t.* FROM json_to_recordset($1::json) AS t(id bigint, progress text)),
  written AS (
    UPDATE ${L} j SET progress = t.progress::json
      FROM t
     WHERE j.id = t.id
    RETURNING j.id, j.name, j.run_at),
  ev AS (SELECT 'progress'::text AS type, id, name, run_at FROM written),${notify}
  SELECT id FROM written WHERE ${GATE}`,
    },

    // One primary-key probe in each table.
    selectJob: { name: name('select-job'), text: `SELECT ${cols('j')} FROM ${V} j WHERE j.id = $1` },
    // $1 ids: the jobs that exist, for the change feed and waitFor; primary-key probes in each table.
    selectJobs: { name: name('select-jobs'), text: `SELECT ${cols('j')} FROM ${V} j WHERE j.id = ANY($1::bigint[])` },

    // Listing, newest first, keyset by id: one statement per filter shape, each with its own index and plan.
    list: listStatements(name, L, D, V, cols),

    // Counts read the counters (counters.ts): at most names × 5 × 64 rows, whatever the number of jobs.
    countByStatus: { name: name('count-by-status'), text: `SELECT key::int AS status, sum(n)::bigint AS n FROM ${C} WHERE kind = 0 GROUP BY key` },
    countByStatusOfName: {
      name: name('count-by-status-of-name'),
      text: `SELECT key::int AS status, sum(n)::bigint AS n FROM ${C} WHERE kind = 0 AND name = $1 GROUP BY key`,
    },
    countByNameAndStatus: {
      name: name('count-by-name-and-status'),
      text: `SELECT name, key::int AS status, sum(n)::bigint AS n FROM ${C} WHERE kind = 0 GROUP BY name, key HAVING sum(n) <> 0`,
    },

    // Status counts and last claims of every name, from the counters.
    nameStats: {
      name: name('name-stats'),
      text: `SELECT name, kind::int AS kind, key::int AS key, (CASE WHEN kind = 3 THEN max(n) ELSE sum(n) END)::bigint AS n
               FROM ${C} WHERE kind IN (0, 3) GROUP BY name, kind, key HAVING kind = 3 OR sum(n) <> 0`,
    },
    // $1 since (epoch minute), $2 name or NULL.
    throughput: {
      name: name('throughput'),
      text: `
  SELECT key AS minute, (sum(n) FILTER (WHERE kind = 1))::int AS completed, (sum(n) FILTER (WHERE kind = 2))::int AS failed
    FROM ${C}
   WHERE kind IN (1, 2) AND key >= $1::bigint AND ($2::text IS NULL OR name = $2)
   GROUP BY key ORDER BY key`,
    },
    // $1 before (epoch minute): per-minute counters older than that go.
    pruneMinutes: { name: name('prune-minutes'), text: `DELETE FROM ${C} WHERE kind IN (1, 2) AND key < $1::bigint` },

    // $1 id, $2 now. Moves a failed or cancelled job back to the live table, pending, attempts reset. A live
    // job holding its uniqueKey makes the INSERT fail with a unique violation (the store explains it).
    retryJob: {
      name: name('retry-job'),
      text: `
  WITH gone AS (DELETE FROM ${D} j WHERE j.id = $1 AND j.status IN ('failed', 'cancelled') RETURNING j.*),
  changed AS (
    INSERT INTO ${L} AS j (${allColumns})
    SELECT id, name, data, 'pending', priority, 0, max_attempts, backoff, timeout_ms, NULL, NULL, NULL, NULL,
           ${ts('$2')}, created_at, NULL, NULL, NULL, NULL, false, unique_key, errors, trace_context${FLOW_SELECT}
      FROM gone
    RETURNING ${cols('j')}),${retryFlow.ctes},
  ev AS (SELECT 'retrying'::text AS type, id, name, to_timestamp(run_at / 1000) AS run_at FROM changed
         UNION ALL ${retryFlow.events}),${notify},${countedCte(C, [moves('gone', 'status', "'pending'"), ...retryFlow.deltas])}
  SELECT * FROM changed WHERE ${GATE}`,
    },

    // $1 id, $2 now. A pending job is cancelled at once (moved to the finished table); a running one gets a
    // request its worker learns at its next tick (no feed event until the worker writes 'cancelled').
    // The row is locked first and both branches test the status it has then: a claim committing meanwhile
    // turns the cancel into a request instead of a miss.
    cancelJob: {
      name: name('cancel-job'),
      text: `
  WITH target AS MATERIALIZED (SELECT id, status FROM ${L} WHERE id = $1 FOR UPDATE),
  gone AS (DELETE FROM ${L} j USING target t WHERE j.id = t.id AND t.status = 'pending' RETURNING j.*),
  archived AS (${archive('gone', 'cancelled')}),
  flagged AS (
    UPDATE ${L} j SET cancel_requested = true FROM target t WHERE j.id = t.id AND t.status = 'running'
    RETURNING ${cols('j')}),${cancelFlow.ctes},
  ev AS (SELECT 'cancelled'::text AS type, id, name, to_timestamp(run_at / 1000) AS run_at FROM archived
         UNION ALL ${cancelFlow.events}),${notify},${countedCte(C, [moves('gone', "'pending'", "'cancelled'"), ...cancelFlow.deltas])}
  SELECT * FROM archived WHERE ${GATE}
  UNION ALL
  SELECT * FROM flagged`,
    },

    // $1 id, $2 now (a flow parent whose last child this was becomes due): removes it from whichever table holds it.
    deleteJob: {
      name: name('delete-job'),
      text: `
  WITH live AS (DELETE FROM ${L} j WHERE j.id = $1 RETURNING ${cols('j')}),
  done AS (DELETE FROM ${D} j WHERE j.id = $1 RETURNING ${cols('j')}),
  changed AS (SELECT * FROM live UNION ALL SELECT * FROM done),${deleteFlow.ctes},
  ev AS (SELECT 'deleted'::text AS type, id, name, to_timestamp(run_at / 1000) AS run_at FROM changed
         UNION ALL ${deleteFlow.events}),${notify},${countedCte(C, [moves('changed', 'status', null), ...deleteFlow.deltas])}
  SELECT * FROM changed WHERE ${GATE}`,
    },

    // $1 statuses (text[]), $2 finished before (ms), $3 limit. Oldest first through the status index; rows
    // another session holds are skipped, not waited for. No feed event: finished jobs leaving is not news.
    prune: {
      name: name('prune-jobs'),
      text: `
  WITH gone AS (
    DELETE FROM ${D} j
     WHERE j.id = ANY(ARRAY(
       SELECT id FROM ${D} WHERE status = ANY($1::text[]) AND completed_at < ${ts('$2')}
        ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED))
    RETURNING j.id, j.name, j.status),${countedCte(C, [moves('gone', 'status', null)])}
  SELECT count(*)::int AS n FROM gone`,
    },
  } satisfies Record<string, Statement | Record<string, Statement>>;
}

/** The listing statement for a filter: which table its status lives in, and whether a name narrows it. */
export type ListShape = 'all' | 'name' | `${'pending' | 'running' | 'done'}${'' | 'Name'}`;

/**
 * The listing statements, one per filter shape, each one statement, newest first, keyset by id.
 * Jobs of both tables (all, by name) come from a merge of the tables' id-ordered index scans, each cut
 * at limit + offset. Running jobs are read through the lease index (a bounded set: the workers' slots
 * and prefetch; MATERIALIZED so the planner cannot trade it for a walk of the whole primary key) and
 * sorted; pending ones by walking the primary key or the pending-name index down from the cursor.
 * $1 cursor, $2 limit, $3 offset, then $4 name, or $4 status and $5 name for finished statuses.
 */
function listStatements(name: (key: string) => string, L: string, D: string, V: string, cols: (alias: string) => string) {
  const page = 'ORDER BY j.id DESC LIMIT $2 OFFSET $3';
  const running = (where: string) =>
    `run AS MATERIALIZED (SELECT ${cols('r')} FROM ${L} r WHERE r.status = 'running' AND r.id < $1${where})`;
  const statement = (key: string, text: string): Statement => ({ name: name(`list-${key}`), text });
  return {
    all: statement('all', `SELECT ${cols('j')} FROM ${V} j WHERE j.id < $1 ${page}`),
    name: statement('name', `
  WITH ${running(' AND r.name = $4')}
  SELECT * FROM (
    (SELECT ${cols('j')} FROM ${L} j WHERE j.id < $1 AND j.status = 'pending' AND j.name = $4 ORDER BY j.id DESC LIMIT $2::bigint + $3::bigint)
    UNION ALL
    (SELECT * FROM run j ORDER BY j.id DESC LIMIT $2::bigint + $3::bigint)
    UNION ALL
    (SELECT ${cols('j')} FROM ${D} j WHERE j.id < $1 AND j.name = $4 ORDER BY j.id DESC LIMIT $2::bigint + $3::bigint)) j
  ${page}`),
    pending: statement('pending', `SELECT ${cols('j')} FROM ${L} j WHERE j.id < $1 AND j.status = 'pending' ${page}`),
    pendingName: statement('pending-name', `SELECT ${cols('j')} FROM ${L} j WHERE j.id < $1 AND j.status = 'pending' AND j.name = $4 ${page}`),
    running: statement('running', `WITH ${running('')} SELECT * FROM run j ${page}`),
    runningName: statement('running-name', `WITH ${running(' AND r.name = $4')} SELECT * FROM run j ${page}`),
    done: statement('done', `SELECT ${cols('j')} FROM ${D} j WHERE j.id < $1 AND j.status = $4 ${page}`),
    doneName: statement('done-name', `SELECT ${cols('j')} FROM ${D} j WHERE j.id < $1 AND j.status = $4 AND j.name = $5 ${page}`),
  } satisfies Record<ListShape, Statement>;
}

/** The statements of one schema. */
export type Statements = ReturnType<typeof buildStatements>;
