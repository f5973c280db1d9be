import { parseErrors, type BackoffOptions, type Job, type JobStatus } from '../../job.ts';

/**
 * A jobs row as node-postgres returns it: bigint as string, json columns already parsed,
 * timestamptz as Date.
 */
export interface JobRow {
  id: string;
  name: string;
  data: unknown;
  status: string;
  priority: number;
  attempts: number;
  max_attempts: number;
  backoff: BackoffOptions | null;
  timeout_ms: number | null;
  progress: unknown;
  result: unknown;
  error: string | null;
  error_stack: string | null;
  run_at: Date;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  processing_by: string | null;
  lease_until: Date | null;
  cancel_requested: boolean;
  unique_key: string | null;
  errors: unknown;
  trace_context: Record<string, string> | null;
}

/** Turns a row into the public Job shape, the same shape the SQLite store returns. */
export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    name: row.name,
    data: row.data,
    status: row.status as JobStatus,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    progress: row.progress,
    result: row.result,
    error: row.error,
    errorStack: row.error_stack,
    runAt: row.run_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    processingBy: row.processing_by,
    uniqueKey: row.unique_key,
    backoff: row.backoff,
    timeout: row.timeout_ms,
    leaseUntil: row.lease_until,
    cancelRequested: row.cancel_requested,
    errors: parseErrors(row.errors),
    traceContext: row.trace_context ?? null,
  };
}
