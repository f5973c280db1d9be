import type { Job } from '../job.ts';
import type { NewJob } from './store.ts';

/*
 * Job ids as both stores make them: ascending integers (SQLite rowid, PostgreSQL identity) handed out as
 * decimal strings, newest highest.
 */

/** True for a string that can be a job id; anything else names no job and needs no statement. */
export function isRowId(id: string): boolean {
  return /^[1-9][0-9]{0,15}$/.test(id);
}

/** Claim order: priority (higher first), then runAt, then id (FIFO). RETURNING gives rows in no set order. */
export function claimOrder(a: Job, b: Job): number {
  return b.priority - a.priority || a.runAt.getTime() - b.runAt.getTime() || compareIds(a.id, b.id);
}

/**
 * Maps the rows an INSERT … ON CONFLICT DO NOTHING RETURNING gave back onto the input, in input order.
 * Both stores insert a batch in input order from one statement, so ids ascend with input position;
 * a job skipped for its uniqueKey takes the id of the job holding the key (inserted in this batch,
 * or found by `lookupExisting`, called once with every key still unresolved).
 */
export async function orderEnqueuedIds(
  jobs: NewJob[],
  inserted: { id: string; uniqueKey: string | null }[],
  lookupExisting: (keys: string[]) => Promise<Map<string, string>>,
): Promise<string[]> {
  const rows = [...inserted].sort((a, b) => compareIds(a.id, b.id));
  const byKey = new Map<string, string>();
  for (const row of rows) if (row.uniqueKey !== null) byKey.set(row.uniqueKey, row.id);

  const ids: (string | undefined)[] = [];
  const claimedKeys = new Set<string>();
  let next = 0;
  for (const job of jobs) {
    const row = rows[next];
    const key = job.uniqueKey;
    const isMine = row !== undefined && row.uniqueKey === key && (key === null || !claimedKeys.has(key));
    if (isMine) {
      ids.push(row.id);
      next++;
      if (key !== null) claimedKeys.add(key);
    } else {
      ids.push(key !== null ? byKey.get(key) : undefined);
    }
  }

  const missing = jobs.flatMap((job, i) => (ids[i] === undefined && job.uniqueKey !== null ? [job.uniqueKey] : []));
  if (missing.length > 0) {
    const existing = await lookupExisting([...new Set(missing)]);
    jobs.forEach((job, i) => {
      if (ids[i] === undefined && job.uniqueKey !== null) ids[i] = existing.get(job.uniqueKey);
    });
  }
  return ids.map((id, i) => {
    // Only possible if the holder of the key finished between the insert and the look-up.
    if (id === undefined) throw new Error(`job ${i} (${jobs[i]!.name}) was neither inserted nor found by its uniqueKey`);
    return id;
  });
}

/** Orders numeric id strings numerically ("9" before "10"). */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
