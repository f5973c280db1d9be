import { flowProgress } from '../../flows/flow-progress.ts';
import { parseErrors, type BackoffOptions, type Job, type JobStatus } from '../../job.ts';
import type { CLAIMED_COLUMNS } from './statements.ts';

/** A spool_jobs row as better-sqlite3 returns it. */
export interface JobRow {
  id: number;
  name: string;
  data: string;
  status: string;
  priority: number;
  attempts: number;
  max_attempts: number;
  backoff: string | null;
  timeout_ms: number | null;
  progress: string | null;
  result: string | null;
  error: string | null;
  error_stack: string | null;
  run_at: number;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  processing_by: string | null;
  lease_until: number | null;
  cancel_requested: number;
  unique_key: string | null;
  /** The attempt history as JSON text. */
  errors?: string | null;
  /** The producer's trace context as JSON text. */
  trace_context?: string | null;
  /** The status before the last claim or retry, as its index in JOB_STATUSES (see the migration that added it). */
  prev_status?: number | null;
  /** Flows (src/flows). */
  parent_id?: number | null;
  children_total?: number | null;
  children_left?: number | null;
}

const parseOrNull = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/** Turns a row into the public Job shape. */
export function rowToJob(row: JobRow): Job {
  return {
    id: String(row.id),
    name: row.name,
    data: JSON.parse(row.data),
    status: row.status as JobStatus,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    progress: parseOrNull(row.progress) ?? flowProgress(row.children_total, row.children_left),
    result: parseOrNull(row.result),
    error: row.error,
    errorStack: row.error_stack,
    runAt: new Date(row.run_at),
    createdAt: new Date(row.created_at),
    startedAt: dateOrNull(row.started_at),
    completedAt: dateOrNull(row.completed_at),
    processingBy: row.processing_by,
    uniqueKey: row.unique_key,
    backoff: parseOrNull(row.backoff) as BackoffOptions | null,
    timeout: row.timeout_ms,
    leaseUntil: dateOrNull(row.lease_until),
    cancelRequested: row.cancel_requested === 1,
    errors: parseErrors(row.errors ?? null),
    traceContext: row.trace_context ? (JSON.parse(row.trace_context) as Record<string, string>) : null,
    parentId: row.parent_id === null || row.parent_id === undefined ? null : String(row.parent_id),
  };
}

/** A claimed row as a raw array, in CLAIMED_COLUMNS order. */
export type ClaimedRow = unknown[] & { length: (typeof CLAIMED_COLUMNS)['length'] };

/** Turns a claimed row into a Job; the fields the claim set come from the claim itself. */
export function claimedRowToJob(row: ClaimedRow, claim: { workerId: string; now: number; leaseUntil: number }): Job {
  const [id, name, data, priority, attempts, maxAttempts, backoff, timeout, progress, error, errorStack, runAt, createdAt, cancelRequested, uniqueKey, , errors, traceContext] =
    row;
  return {
    id: String(id),
    name: name as string,
    data: JSON.parse(data as string),
    status: 'running',
    priority: priority as number,
    attempts: attempts as number,
    maxAttempts: maxAttempts as number,
    progress: parseOrNull(progress as string | null),
    result: null,
    error: error as string | null,
    errorStack: errorStack as string | null,
    runAt: new Date(runAt as number),
    createdAt: new Date(createdAt as number),
    startedAt: new Date(claim.now),
    completedAt: null,
    processingBy: claim.workerId,
    uniqueKey: uniqueKey as string | null,
    backoff: parseOrNull(backoff as string | null) as BackoffOptions | null,
    timeout: timeout as number | null,
    leaseUntil: new Date(claim.leaseUntil),
    cancelRequested: cancelRequested === 1,
    errors: parseErrors(errors ?? null),
    traceContext: traceContext ? (JSON.parse(traceContext as string) as Record<string, string>) : null,
  };
}
