import type { BulkOp, JobFilter } from '../store.ts';
import { containedStrings } from '../data-prefilter.ts';
import { containsCondition } from './data-filter.ts';

/*
 * Statements whose text follows the shape of a filter (which of status, name and data it has, and the data
 * filter's keys): built per call with every value bound as a parameter, prepared once per shape (cached).
 */

/** The WHERE conditions of a filter, its values added to `params`. */
function where(filter: JobFilter, params: Record<string, unknown>, alias = 'spool_jobs'): string[] {
  const conds: string[] = [];
  if (filter.status !== undefined) {
    params.status = filter.status;
    conds.push(`${alias}.status = @status`);
  }
  if (filter.name !== undefined) {
    params.name = filter.name;
    conds.push(`${alias}.name = @name`);
  }
  if (filter.data !== undefined) {
    // A substring test on the stored text first (data-prefilter.ts), then the exact containment test.
    containedStrings(filter.data).forEach((str, i) => {
      params[`s${i}`] = str;
      conds.push(`instr(${alias}.data, @s${i}) > 0`);
    });
    conds.push(containsCondition(filter.data, params, `${alias}.data`));
  }
  return conds;
}

/**
 * One page below @cursor (NULL: from the newest), walking the id (or status, or name) index downwards and
 * stopping at @limit. With data, only ids in [hi - @scan, hi) are examined. A last row (job columns NULL: a
 * LEFT JOIN on id 0, which no job has) always carries `hi`, so the caller learns where the window ended even when nothing matched.
 */
export function pageSql(filter: JobFilter, params: Record<string, unknown>): string {
  const conds = where(filter, params, 'j');
  const window = filter.data !== undefined ? ' AND j.id >= (SELECT hi FROM b) - @scan' : '';
  return `
  WITH b AS (SELECT coalesce(@cursor, (SELECT max(id) FROM spool_jobs) + 1, 1) AS hi)
  SELECT * FROM (
    SELECT NULL AS page_hi, j.* FROM spool_jobs AS j
     WHERE j.id < (SELECT hi FROM b)${window}${conds.map((c) => ` AND ${c}`).join('')}
     ORDER BY j.id DESC LIMIT @limit)
  UNION ALL
  SELECT b.hi, j.* FROM b LEFT JOIN spool_jobs AS j ON j.id = 0`;
}

/** How many jobs match (used with data: without it the counters answer). */
export function countSql(filter: JobFilter, params: Record<string, unknown>): string {
  const conds = where(filter, params);
  return `SELECT count(*) AS n FROM spool_jobs${conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : ''}`;
}

/** The states each bulk action applies to (a running job already asked to cancel is not asked again). */
const OP_STATES: Record<BulkOp, string> = {
  retry: `spool_jobs.status IN ('failed', 'cancelled')`,
  cancel: `(spool_jobs.status = 'pending' OR (spool_jobs.status = 'running' AND spool_jobs.cancel_requested = 0))`,
  delete: 'true',
};

/** The ids of one chunk of a bulk action: at most @limit, newest first, in [@lo, @hi). */
export function chunkSql(op: BulkOp, filter: JobFilter, params: Record<string, unknown>): string {
  const conds = [`spool_jobs.id < @hi`, `spool_jobs.id >= @lo`, OP_STATES[op], ...where(filter, params)];
  return `SELECT id FROM spool_jobs WHERE ${conds.join(' AND ')} ORDER BY id DESC LIMIT @limit`;
}
