/** Where a job is in its life: pending (waiting or scheduled) → running → completed | failed | cancelled. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Every status, in life order; handy for counts and UIs. */
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];

/** How long to wait before the next attempt after a failure. */
export type BackoffOptions =
  | { type: 'exponential'; delay: number; maxDelay?: number; jitter?: boolean }
  | { type: 'fixed'; delay: number; jitter?: boolean };

/** Options of `queue.add()`; every field is optional and validated. */
export interface JobOptions {
  /** Higher runs first; default 0. */
  priority?: number;
  /** Milliseconds from now before the job may run; exclusive with `runAt`. */
  delay?: number;
  /** When the job may run at the earliest; exclusive with `delay`. */
  runAt?: Date;
  /** Attempts in all, the first included; default 3. */
  maxAttempts?: number;
  /** Delay between attempts; default exponential from 1 s, capped at 1 h, with jitter. */
  backoff?: BackoffOptions;
  /** Milliseconds an attempt may take before its signal aborts and the attempt fails. */
  timeout?: number;
  /** At most one pending or running job carries this key; adding another returns the existing id. */
  uniqueKey?: string;
  /**
   * The key per-key limits count this job by (queue.setLimits(name, { perKeyConcurrency, perKeyRate })), e.g.
   * 'repo:a/b'; workers take keys round-robin, so one key's backlog cannot starve the others.
   */
  concurrencyKey?: string;
  /**
   * PostgreSQL only: a `pg` Client or PoolClient with an open transaction (BEGIN sent). The job is inserted on
   * that connection, so it exists only if your transaction commits; workers learn of it at commit (NOTIFY).
   * No in-process 'added' event fires, since the transaction may still roll back. All jobs of one addBulk()
   * must share the client. SQLite rejects it with a ValidationError.
   */
  client?: TransactionClient;
}

/**
 * The part of a `pg` Client / PoolClient that transactional enqueue uses; typed structurally so Spool's
 * public types do not require @types/pg.
 */
export interface TransactionClient {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** A job as stored. Dates are `Date`; data, progress and result are the JSON values given. */
export interface Job<Data = unknown, Result = unknown> {
  id: string;
  name: string;
  data: Data;
  status: JobStatus;
  priority: number;
  /** Attempts started so far (the running one included). */
  attempts: number;
  maxAttempts: number;
  progress: unknown;
  result: Result | null;
  /** The last failure's message. */
  error: string | null;
  /** The last failure's stack, when it had one. */
  errorStack: string | null;
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  /** The id of the worker running (or that last ran) the job. */
  processingBy: string | null;
  uniqueKey: string | null;
  backoff: BackoffOptions | null;
  timeout: number | null;
  /** Until when the running worker holds the job; past it, another worker may take it. */
  leaseUntil: Date | null;
  /** A cancel was asked while the job ran; its worker aborts it at its next tick. */
  cancelRequested: boolean;
  /**
   * The last 20 failed attempts, oldest first: thrown errors and timeouts, and attempts lost with their worker
   * (lease expired). Written by the statements that record the failure; kept across retry().
   */
  errors: AttemptError[];
  /**
   * The trace context (W3C traceparent, tracestate) of the add() that created the job, when the application
   * traces with OpenTelemetry; the attempt's span continues it. Null otherwise.
   */
  traceContext: Record<string, string> | null;
  /**
   * The flow parent of a child added with queue.addFlow(), else null. Set on jobs read back (getJob, listJobs,
   * ctx.children(), events read from the store); absent on the job a handler receives (the claim returns narrow rows).
   */
  parentId?: string | null;
}

/** One failed attempt of a job. */
export interface AttemptError {
  /** The attempt's number (from 1; counting restarts after a manual retry). */
  attempt: number;
  at: Date;
  message: string;
  stack: string | null;
  /** The worker that ran the attempt. */
  workerId: string | null;
}

/** Failed attempts kept per job. */
export const ERRORS_KEPT = 20;

/** Parses the stored attempt history (JSON `[{ attempt, at: epoch ms, message, stack, workerId }]`). */
export function parseErrors(value: unknown): AttemptError[] {
  const list = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(list)) return [];
  return list.map((e: { attempt: number; at: number; message: string; stack?: string | null; workerId?: string | null }) => ({
    attempt: e.attempt,
    at: new Date(e.at),
    message: e.message,
    stack: e.stack ?? null,
    workerId: e.workerId ?? null,
  }));
}

/** Jobs per status. */
export type JobCounts = Record<JobStatus, number>;

/** Zero jobs in every status: what a count starts from (statuses with no rows return no row). */
export function emptyCounts(): JobCounts {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as JobCounts;
}
