import type { Job } from './job.ts';

/** Base class of every error Spool throws on purpose; `code` is stable and machine-readable. */
export class SpoolError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input: the message names the field, the value received and what to send instead. Nothing was written. */
export class ValidationError extends SpoolError {
  /** Every problem found, one line each, e.g. `options.delay must be a non-negative integer (ms), got -5`. */
  readonly issues: string[];
  constructor(issues: string[]) {
    super('VALIDATION', issues.join('; '));
    this.issues = issues;
  }
}

/** The job id names no job (never added, or deleted). */
export class JobNotFoundError extends SpoolError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('JOB_NOT_FOUND', `job ${JSON.stringify(jobId)} does not exist (it was never added or has been deleted)`);
    this.jobId = jobId;
  }
}

/** The operation does not apply to the job in its current state, e.g. retry() of a completed job. */
export class JobStateError extends SpoolError {
  readonly jobId: string;
  readonly status: string;
  constructor(jobId: string, status: string, message: string) {
    super('JOB_STATE', message);
    this.jobId = jobId;
    this.status = status;
  }
}

/** A database call failed; `cause` holds the driver's error, the message says which statement. */
export class StoreError extends SpoolError {
  /**
   * True when the same call may succeed later (connection lost, server restarting, lock busy, disk full);
   * false when the database refused what was sent (a value it cannot hold, a constraint): sending it again
   * fails again.
   */
  readonly retryable: boolean;
  constructor(message: string, options: { cause: unknown; retryable?: boolean }) {
    super('STORE', message, { cause: options.cause });
    this.retryable = options.retryable ?? true;
  }
}

/** queue.waitFor(): the job ended failed or cancelled. `job` is the job as it ended (error, attempts, errors). */
export class JobFailedError extends SpoolError {
  readonly jobId: string;
  readonly status: 'failed' | 'cancelled';
  readonly job: Job;
  constructor(job: Job) {
    const why = job.status === 'cancelled' ? 'was cancelled' : `failed after ${job.attempts} of ${job.maxAttempts} attempts`;
    super('JOB_FAILED', `job ${job.id} (${job.name}) ${why}${job.error ? `: ${job.error}` : ''}`);
    this.jobId = job.id;
    this.status = job.status as 'failed' | 'cancelled';
    this.job = job;
  }
}

/** queue.waitFor(): the job did not finish within the timeout given. It may still finish later. */
export class WaitTimeoutError extends SpoolError {
  readonly jobId: string;
  constructor(jobId: string, timeoutMs: number, status: string | undefined) {
    super('WAIT_TIMEOUT', `job ${jobId} did not finish within ${timeoutMs} ms (timeout option of waitFor)${status ? `; it is ${status}` : ''}`);
    this.jobId = jobId;
  }
}
