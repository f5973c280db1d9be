import type { BulkOp, JobFilter } from '../store.ts';
import { containedStrings, likeContaining } from '../data-prefilter.ts';
import { countedCte, moves } from './counters.ts';
import { FLOW_SELECT, flowReopen, flowSettle } from './flow-statements.ts';
import { GATE, JOB_COLUMNS, notifyCtes, selectList, ts } from './statements.ts';

/*
 * Statements whose text follows the shape of a filter (status, name, data), with every value a parameter.
 * The text depends only on which fields the filter has, so each shape is one named (prepared) statement.
 * `data` is JSON containment: `data::jsonb @> $n::jsonb`. Which table a status lives in picks the table:
 * pending and running jobs in jobs_live, finished ones in jobs_done, both through the view jobs.
 */

/** Positional parameters collected while building a statement. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The tables of one schema. */
export interface Tables {
  L: string;
  D: string;
  V: string;
  /** The counters (counters.ts). */
  C: string;
}

/** The table holding jobs of this status, or the view of both. */
function tableOf(filter: JobFilter, t: Tables): string {
  if (filter.status === undefined) return t.V;
  return filter.status === 'pending' || filter.status === 'running' ? t.L : t.D;
}

function where(filter: JobFilter, p: Params, alias: string): string[] {
  const conds: string[] = [];
  if (filter.status !== undefined) conds.push(`${alias}.status = ${p.add(filter.status)}`);
  if (filter.name !== undefined) conds.push(`${alias}.name = ${p.add(filter.name)}`);
  if (filter.data !== undefined) {
    // json is stored as text, so the substring test costs no parse; the jsonb test then decides exactly.
    for (const str of containedStrings(filter.data)) conds.push(`${alias}.data::text LIKE ${p.add(likeContaining(str))}`);
    conds.push(`${alias}.data::jsonb @> ${p.add(JSON.stringify(filter.data))}::jsonb`);
  }
  return conds;
}

/** The newest id + 1 (where a scan with no cursor starts): two primary-key probes. */
const top = (t: Tables) => `greatest((SELECT max(id) FROM ${t.L}), (SELECT max(id) FROM ${t.D})) + 1`;

/** A statement's name for a filter shape (the prepared plan is per shape). */
export function shapeKey(kind: string, filter: JobFilter): string {
  const data = filter.data !== undefined ? `-d${containedStrings(filter.data).length}` : '';
  return `${kind}-${filter.status ?? 'any'}${filter.name !== undefined ? '-n' : ''}${data}`;
}

/**
 * One page below the cursor (NULL: from the newest), walking the id-ordered indexes downwards and stopping at
 * the limit; with data, only ids in [hi - scan, hi). A last row (job columns NULL) always carries `hi`, so the
 * caller learns where the window ended even when nothing matched.
 */
export function pageSql(filter: JobFilter, t: Tables, p: Params, cursor: string | null, limit: number, scan: number): string {
  const hi = `coalesce(${p.add(cursor)}::bigint, ${top(t)}, 1)`;
  const lim = p.add(limit);
  const window = filter.data !== undefined ? ` AND j.id >= (SELECT hi FROM b) - ${p.add(scan)}::bigint` : '';
  const conds = where(filter, p, 'j');
  const columns = selectList('j', JOB_COLUMNS);
  const table = tableOf(filter, t);
  return `
  WITH b AS MATERIALIZED (SELECT ${hi} AS hi)
  (SELECT NULL::bigint AS page_hi, ${columns} FROM ${table} j
    WHERE j.id < (SELECT hi FROM b)${window}${conds.map((c) => ` AND ${c}`).join('')}
    ORDER BY j.id DESC LIMIT ${lim})
  UNION ALL
  SELECT b.hi, ${columns} FROM b LEFT JOIN ${table} j ON false`;
}

/** How many jobs match. */
export function countSql(filter: JobFilter, t: Tables, p: Params): string {
  const conds = where(filter, p, 'j');
  return `SELECT count(*)::bigint AS n FROM ${tableOf(filter, t)} j${conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : ''}`;
}

/**
 * One chunk of a bulk action, one statement: the chunk's ids (at most `limit`, newest first, in [lo, hi)),
 * the change, one NOTIFY for the feed, and rows saying what changed plus one summary row (kind 'chunk') with
 * the chunk's size and lowest id and the window's floor, so the caller knows where to go on.
 */
export function bulkSql(op: BulkOp, filter: JobFilter, t: Tables, channel: string, p: Params, args: { cursor: string | null; limit: number; scan: number; now: number }): string {
  const hi = `coalesce(${p.add(args.cursor)}::bigint, ${top(t)}, 1)`;
  const scan = p.add(filter.data !== undefined ? args.scan : null);
  const lim = p.add(args.limit);
  const conds = where(filter, p, 'j');
  const bounds = `b AS (SELECT ${hi} AS hi), w AS (SELECT hi, greatest(1, hi - coalesce(${scan}::bigint, hi)) AS lo FROM b)`;
  const inWindow = `j.id < (SELECT hi FROM w) AND j.id >= (SELECT lo FROM w)${conds.map((c) => ` AND ${c}`).join('')}`;
  const all = JOB_COLUMNS.join(', ');
  const summary = `SELECT 'chunk'::text AS kind, NULL::bigint AS id, NULL::text AS name, NULL::text AS from_status, NULL::text AS to_status,
         (SELECT count(*) FROM chunk)::int AS n, (SELECT min(id) FROM chunk) AS min_id, (SELECT lo FROM w) AS lo`;
  const tail = (changedRows: string, deltas: string[]) => `${notifyCtes(channel)},${countedCte(t.C, deltas)}
  ${summary} WHERE ${GATE}
  UNION ALL
  ${changedRows}`;
  const row = (from: string, to: string) => `'row', id, name, ${from}, ${to}, NULL, NULL, NULL`;

  const now = p.add(args.now);
  if (op === 'retry') {
    const flow = flowReopen({ L: t.L, D: t.D, prefix: 'flow', all, source: 'SELECT id, parent_id FROM gone', retried: 'SELECT id FROM gone' });
    // Finished jobs back to live, pending, attempts reset. A job whose uniqueKey a live job holds, or a newer job
    // of the chunk with the same key, is left as it is (retry() would refuse it), so the INSERT cannot conflict.
    // (The queue refuses a retry filter of another status, so the finished table is the only source.)
    return `
  WITH ${bounds},
  chunk AS MATERIALIZED (
    SELECT j.id, j.unique_key FROM ${t.D} j
     WHERE ${inWindow} AND j.status IN ('failed', 'cancelled')
     ORDER BY j.id DESC LIMIT ${lim} FOR UPDATE),
  picked AS (
    SELECT c.id FROM chunk c
     WHERE c.unique_key IS NULL
        OR (NOT EXISTS (SELECT 1 FROM ${t.L} h WHERE h.unique_key = c.unique_key)
            AND c.id = (SELECT max(c2.id) FROM chunk c2 WHERE c2.unique_key = c.unique_key))),
  gone AS (DELETE FROM ${t.D} j USING picked x WHERE j.id = x.id RETURNING j.*),
  changed AS (
    INSERT INTO ${t.L} (${all})
    SELECT id, name, data, 'pending', priority, 0, max_attempts, backoff, timeout_ms, NULL, NULL, NULL, NULL,
           ${ts(now)}, created_at, NULL, NULL, NULL, NULL, false, unique_key, errors, trace_context${FLOW_SELECT}
      FROM gone
    RETURNING id, name, run_at),${flow.ctes},
  ev AS (SELECT 'retrying'::text AS type, id, name, run_at FROM changed UNION ALL ${flow.events}),${tail(`SELECT ${row('status', "'pending'")} FROM gone
  UNION ALL
  SELECT DISTINCT 'parent', parent_id, NULL, NULL, NULL, NULL::int, NULL::bigint, NULL::bigint FROM gone WHERE parent_id IS NOT NULL`, [moves('gone', 'status', "'pending'"), ...flow.deltas])}`;
  }

  if (op === 'cancel') {
    const flow = flowSettle({ L: t.L, D: t.D, prefix: 'flow', now, all, source: 'SELECT id, name, parent_id, status, error, on_failure FROM archived' });
    // Pending jobs move to the finished table as cancelled; running ones get a request their worker learns.
    // (The queue refuses a cancel filter of a finished status, so the live table is the only source.)
    return `
  WITH ${bounds},
  chunk AS MATERIALIZED (
    SELECT j.id, j.status FROM ${t.L} j
     WHERE ${inWindow} AND (j.status = 'pending' OR (j.status = 'running' AND NOT j.cancel_requested))
     ORDER BY j.id DESC LIMIT ${lim} FOR UPDATE),
  gone AS (DELETE FROM ${t.L} j USING chunk c WHERE j.id = c.id AND c.status = 'pending' RETURNING j.*),
  archived AS (
    INSERT INTO ${t.D} (${all})
    SELECT id, name, data, 'cancelled', priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error, error_stack,
           run_at, created_at, started_at, ${ts(now)}, processing_by, NULL, false, unique_key, errors, trace_context${FLOW_SELECT}
      FROM gone
    RETURNING id, name, run_at, parent_id, status, error, on_failure),${flow.ctes},
  flagged AS (
    UPDATE ${t.L} j SET cancel_requested = true FROM chunk c WHERE j.id = c.id AND c.status = 'running'
    RETURNING j.id, j.name),
  ev AS (SELECT 'cancelled'::text AS type, id, name, run_at FROM archived UNION ALL ${flow.events}),${tail(`SELECT ${row("'pending'", "'cancelled'")} FROM archived
  UNION ALL
  SELECT ${row("'running'", "'running'")} FROM flagged`, [moves('archived', "'pending'", "'cancelled'"), ...flow.deltas])}`;
  }

  // delete: from whichever table holds each job of the chunk.
  const source = tableOf(filter, t);
  const flow = flowSettle({
    L: t.L, D: t.D, prefix: 'flow', now, all, exclude: 'SELECT id FROM live',
    source: "SELECT id, name, parent_id, 'deleted'::text AS status, NULL::text AS error, NULL::text AS on_failure FROM live",
  });
  return `
  WITH ${bounds},
  chunk AS MATERIALIZED (SELECT j.id FROM ${source} j WHERE ${inWindow} ORDER BY j.id DESC LIMIT ${lim}),
  live AS (DELETE FROM ${t.L} j USING chunk c WHERE j.id = c.id RETURNING j.id, j.name, j.status, j.run_at, j.parent_id),
  done AS (DELETE FROM ${t.D} j USING chunk c WHERE j.id = c.id RETURNING j.id, j.name, j.status, j.run_at, j.parent_id),
  gone AS (SELECT * FROM live UNION ALL SELECT * FROM done),${flow.ctes},
  ev AS (SELECT 'deleted'::text AS type, id, name, run_at FROM gone UNION ALL ${flow.events}),${tail(`SELECT ${row('status', 'NULL')} FROM gone`, [moves('gone', 'status', null), ...flow.deltas])}`;
}
