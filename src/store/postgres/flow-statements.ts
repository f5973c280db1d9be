import { FLOW_WAIT_AT } from '../../flows/flow.ts';
import { endedInMinute, moves } from './counters.ts';

/*
 * The SQL that moves flows on, as CTEs that ride in the statements already moving children (finish, claim with
 * outcomes, cancel, delete, retry, bulk): no statement of its own, no round trip per job. See src/flows/flow.ts.
 *
 * A waiting parent is a live row, pending, with run_at = FLOW_WAIT_AT (claims never see it as due) and
 * children_left = its children not yet finished. Each statement that finishes children subtracts how many of a
 * parent's children it finished; the UPDATE takes the parent's row lock, so two workers finishing the last two
 * children at once are serialised on it and the second sees the first's decrement (READ COMMITTED re-reads
 * the row): exactly one of them sees 0 and makes the parent due (run_at = now). A count of the unfinished
 * children instead would miss: each statement's snapshot still shows the other's child running.
 */

/** A parent waiting for its children: the condition on a live row aliased `p`. */
export const WAITING = (p: string) => `${p}.status = 'pending' AND ${p}.run_at = ${waitTs}`;

const waitTs = `to_timestamp(${FLOW_WAIT_AT / 1000}::float8)`;

/** The timestamp of a waiting parent, as SQL. */
export const FLOW_WAIT_TS = waitTs;

/** The flow columns, appended to JOB_COLUMNS; statements that move rows between the tables carry them. */
export const FLOW_COLUMNS = ['parent_id', 'on_failure', 'children_total', 'children_left'] as const;

/** The flow columns as a select list (`, parent_id, …`), for INSERT … SELECT of moves. */
export const FLOW_SELECT = `, ${FLOW_COLUMNS.join(', ')}`;

/** What flowSettle returns: CTEs to add, event rows (type, id, name, run_at) to UNION into `ev`, counter deltas. */
export interface FlowParts {
  ctes: string;
  events: string;
  deltas: string[];
}

/**
 * Moves the parents of children that just finished. `source` is a SELECT of the finished children with columns
 * (id, name, parent_id, status, error, on_failure); `exclude` a SELECT of ids the same statement already moves
 * (a parent deleted or cancelled in the same chunk must not be written twice by one statement).
 * CTE names start with `prefix`. $now is the SQL of now in epoch ms.
 */
export function flowSettle(p: { L: string; D: string; prefix: string; source: string; now: string; all: string; exclude?: string }): FlowParts {
  const x = p.prefix;
  const excluded = p.exclude ? ` AND q.id NOT IN (${p.exclude})` : '';
  const ctes = `
  ${x}_agg AS (
    SELECT parent_id AS id, count(*) AS n,
           (array_agg(id::text || ' (' || name || ') failed: ' || coalesce(error, '') ORDER BY id)
              FILTER (WHERE status = 'failed' AND on_failure = 'fail'))[1] AS failed
      FROM (${p.source}) s WHERE parent_id IS NOT NULL GROUP BY parent_id),
  -- 'fail' also takes a parent made due but not started yet: a sibling's finish committed the last decrement
  -- while this statement waited on the parent's row lock (READ COMMITTED re-checks this on the new row).
  ${x}_gone AS (
    DELETE FROM ${p.L} q USING ${x}_agg a
     WHERE q.id = a.id AND a.failed IS NOT NULL AND q.status = 'pending' AND q.children_total IS NOT NULL
       AND q.started_at IS NULL${excluded}
    RETURNING q.*, a.failed AS flow_error, a.n AS flow_n),
  ${x}_failed AS (
    INSERT INTO ${p.D} (${p.all})
    SELECT id, name, data, 'failed', priority, attempts, max_attempts, backoff, timeout_ms, progress, result,
           'child ' || flow_error, NULL, run_at, created_at, started_at, to_timestamp(${p.now}::float8 / 1000), processing_by, NULL, false,
           unique_key, errors, trace_context, parent_id, on_failure, children_total, greatest(children_left - flow_n, 0)
      FROM ${x}_gone
    RETURNING id, name, run_at, 'failed'::text AS outcome),
  ${x}_ready AS (
    UPDATE ${p.L} q
       SET children_left = greatest(q.children_left - a.n, 0),
           run_at = CASE WHEN q.children_left - a.n <= 0 THEN to_timestamp(${p.now}::float8 / 1000) ELSE q.run_at END
      FROM ${x}_agg a
     WHERE q.id = a.id AND a.failed IS NULL AND ${WAITING('q')}${excluded}
    RETURNING q.id, q.name, q.run_at, q.children_left)`;
  return {
    ctes,
    events: `
    SELECT 'failed'::text, id, name, run_at FROM ${x}_failed
    UNION ALL SELECT 'retrying'::text, id, name, run_at FROM ${x}_ready WHERE children_left = 0`,
    deltas: [moves(`${x}_failed`, "'pending'", "'failed'"), endedInMinute(`${x}_failed`, 'outcome', p.now)],
  };
}

/**
 * The parents of children a retry brings back (`source`: a SELECT of the retried rows with id and parent_id;
 * `retried`: a SELECT of their ids). A waiting parent counts them again; a parent that failed because of a
 * child (it never started) waits again, unless another child under 'fail' is still failed.
 * Known limit: a sibling finishing in the very same instant as the reopen is not seen by either statement
 * (the reopened row is invisible to the sibling's snapshot), leaving the parent one child short: see docs/flows.md.
 */
export function flowReopen(p: { L: string; D: string; prefix: string; source: string; retried: string; all: string }): FlowParts {
  const x = p.prefix;
  const ctes = `
  ${x}_src AS (SELECT parent_id, count(*) AS n FROM (${p.source}) s WHERE parent_id IS NOT NULL GROUP BY parent_id),
  ${x}_more AS (
    UPDATE ${p.L} q SET children_left = q.children_left + s.n FROM ${x}_src s
     WHERE q.id = s.parent_id AND ${WAITING('q')}
    RETURNING q.id),
  ${x}_gone AS (
    DELETE FROM ${p.D} q USING ${x}_src s
     WHERE q.id = s.parent_id AND q.status = 'failed' AND q.started_at IS NULL AND q.children_total IS NOT NULL
       AND q.id NOT IN (${p.retried})
       AND NOT EXISTS (SELECT 1 FROM ${p.D} c WHERE c.parent_id = q.id AND c.status = 'failed' AND c.on_failure = 'fail'
                                               AND c.id NOT IN (${p.retried}))
    RETURNING q.*, s.n AS flow_n),
  ${x}_back AS (
    INSERT INTO ${p.L} (${p.all})
    SELECT g.id, g.name, g.data, 'pending', g.priority, g.attempts, g.max_attempts, g.backoff, g.timeout_ms, g.progress, NULL, NULL, NULL,
           ${waitTs}, g.created_at, NULL, NULL, NULL, NULL, false, g.unique_key, g.errors, g.trace_context,
           g.parent_id, g.on_failure, g.children_total,
           g.flow_n + (SELECT count(*) FROM ${p.L} c WHERE c.parent_id = g.id)
      FROM ${x}_gone g
    RETURNING id, name, run_at)`;
  return {
    ctes,
    events: `
    SELECT 'retrying'::text, id, name, run_at FROM ${x}_back`,
    deltas: [moves(`${x}_gone`, "'failed'", "'pending'")],
  };
}

/**
 * Recounts waiting parents after a retry moved one back into the live table (flowReopen): $1 parent ids, $2 now.
 * Run as a statement of its own, after the retry committed, so its snapshot sees the reopened parent; it first
 * locks the parents' live children (FOR UPDATE), which waits for any finish in flight on one of them and skips
 * the rows it removed. So a sibling that finished while the retry ran, unseen by both statements, is not counted,
 * and a finish after this statement sees the parent: the count is exact, and the parent never waits forever.
 */
export function flowRecount(p: { L: string; notify: string; gate: string }): string {
  return `
  WITH live AS MATERIALIZED (SELECT c.id, c.parent_id FROM ${p.L} c WHERE c.parent_id = ANY($1::bigint[]) FOR UPDATE),
  counted AS (SELECT q.id, (SELECT count(*) FROM live l WHERE l.parent_id = q.id) AS n FROM unnest($1::bigint[]) AS q(id)),
  ready AS (
    UPDATE ${p.L} q
       SET children_left = c.n, run_at = CASE WHEN c.n = 0 THEN to_timestamp($2::float8 / 1000) ELSE q.run_at END
      FROM counted c
     WHERE q.id = c.id AND ${WAITING('q')}
    RETURNING q.id, q.name, q.run_at, q.children_left),
  ev AS (SELECT 'retrying'::text AS type, id, name, run_at FROM ready WHERE children_left = 0),${p.notify}
  SELECT count(*)::int AS n FROM ready WHERE ${p.gate}`;
}
