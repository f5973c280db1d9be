import { formatCount } from './format.ts';

/** What a worker reports per finished attempt. */
export type JobLogKind = 'completed' | 'retrying' | 'failed' | 'cancelled';

/**
 * The worker's line per job, capped so a fast queue does not flood the terminal (thousands of lines a second
 * help nobody and cost the worker): past `maxPerSecond` lines in a second, the rest are counted and summed up
 * in one line at the end of that second.
 */
export class JobLog {
  private printed = 0;
  private suppressed = new Map<JobLogKind, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (text: string) => void,
    private readonly maxPerSecond = 20,
  ) {
    this.timer = setInterval(() => this.flush(), 1_000);
    this.timer.unref();
  }

  line(kind: JobLogKind, text: string): void {
    if (this.printed < this.maxPerSecond) {
      this.printed++;
      this.write(text);
      return;
    }
    this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
  }

  /** Sums up what the cap held back, and opens a new second. */
  flush(): void {
    this.printed = 0;
    if (this.suppressed.size === 0) return;
    const parts = [...this.suppressed].map(([kind, n]) => `${formatCount(n)} ${kind}`);
    this.suppressed.clear();
    this.write(`… and ${parts.join(', ')} in the last second (at most ${this.maxPerSecond} lines a second; --quiet hides them)`);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
