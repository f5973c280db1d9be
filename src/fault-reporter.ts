import type { Logger } from './logger.ts';

/**
 * Reports a fault once, not once per failed call: the first failure of a streak is logged (at `level`), the
 * failures after it are only counted, and one line says when it works again, after how many failures and
 * how long. A database outage of a minute thus costs two log lines, not one per retry, tick or job.
 *
 * Calls are told apart by a key. The fault is over once every key that failed has succeeded again, so a
 * finish that keeps timing out is not declared fixed by a claim that went through meanwhile. A key marked
 * `retried: false` (the worker tick, which stops when the worker holds no job) is cleared by any success.
 */
export class FaultReporter {
  private readonly failing = new Map<string, boolean>();
  private failures = 0;
  private since = 0;

  constructor(
    private readonly logger: Logger,
    /** What fails, as the subject of the log lines ("worker w1", "the change feed"). */
    private readonly subject: string,
    private readonly level: 'warn' | 'error' = 'error',
  ) {}

  /** A call failed; logs only the first failure of a streak. `retried`: the same call is tried again until it succeeds. */
  failed(key: string, what: string, error: unknown, options: { retried?: boolean; context?: Record<string, unknown> } = {}): void {
    if (this.failing.size === 0) {
      this.since = Date.now();
      this.failures = 0;
      const message = (error as Error)?.message ?? String(error);
      this.logger[this.level](`${this.subject} could not ${what}: ${message}; retrying quietly, one line follows when it works again`, options.context);
    }
    this.failures++;
    this.failing.set(key, options.retried ?? true);
  }

  /** A call succeeded; once every failing key has, says so once. */
  succeeded(key: string, context?: Record<string, unknown>): void {
    if (this.failing.size === 0) return;
    this.failing.delete(key);
    for (const [k, retried] of this.failing) if (!retried) this.failing.delete(k);
    if (this.failing.size > 0) return;
    const seconds = ((Date.now() - this.since) / 1000).toFixed(1);
    this.logger.warn(`${this.subject} works again after ${this.failures} failed ${this.failures === 1 ? 'try' : 'tries'} over ${seconds} s`, context);
  }
}
