import type { Logger } from './logger.ts';

/**
 * Reports a fault once, not once per failed call: the first failure of a streak is logged (at `level`), the
 * failures after it are only counted, and the first success after them logs one line saying it works again,
 * after how many failures and how long. A database outage of a minute thus costs two log lines, not one per
 * retry, tick or job.
 */
export class FaultReporter {
  private failures = 0;
  private since = 0;

  constructor(
    private readonly logger: Logger,
    /** What fails, as the subject of the log lines ("worker w1", "the change feed"). */
    private readonly subject: string,
    private readonly level: 'warn' | 'error' = 'error',
  ) {}

  /** True while the last call failed. */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** A call failed; logs only the first failure of a streak. */
  failed(what: string, error: unknown, context?: Record<string, unknown>): void {
    if (this.failures++ === 0) {
      this.since = Date.now();
      const message = (error as Error)?.message ?? String(error);
      this.logger[this.level](`${this.subject} could not ${what}: ${message}; retrying quietly, one line follows when it works again`, context);
    }
  }

  /** A call succeeded; after a streak of failures, says so once. */
  succeeded(context?: Record<string, unknown>): void {
    if (this.failures === 0) return;
    const seconds = ((Date.now() - this.since) / 1000).toFixed(1);
    this.logger.warn(`${this.subject} works again after ${this.failures} failed ${this.failures === 1 ? 'try' : 'tries'} over ${seconds} s`, context);
    this.failures = 0;
  }
}
