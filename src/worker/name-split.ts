import type { Clock } from '../clock.ts';
import { isInert, type NameControl } from '../limits/limits.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';

/** Re-reads after the feed's news are this far apart at most (or pollMs, if shorter). */
const MAX_REREAD_MS = 1_000;

/**
 * A worker's names split by flow control: plain ones (no pause, no limit) go through the plain claim,
 * unchanged, so a queue without limits pays nothing for them; limited ones (paused or with limits) through
 * the limit-aware claim, which enforces them inside the store's transaction.
 *
 * Learnt from the control rows (one small statement) at start, at once when this process changes them (a
 * local signal), and after the change feed says another process committed (PostgreSQL: the NOTIFY of the
 * change; SQLite: data_version), at most once per pollMs (or per second, if pollMs is longer): so a pause or
 * limit set elsewhere reaches every worker within one poll interval, and a busy multi-process SQLite queue
 * costs at most one read per second per worker, not one per commit.
 */
export class NameSplit {
  plain: string[];
  limited: string[] = [];
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly names: string[],
    private readonly pollMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Called when the split changed: claim again (a resume or a looser limit may free jobs). */
    private readonly onChange: () => void,
  ) {
    this.plain = [...names];
  }

  /** A re-read is scheduled or on the wire: the worker is not idle yet. */
  get busy(): boolean {
    return this.timer !== undefined || this.reading !== undefined;
  }

  isLimited(name: string): boolean {
    return this.limited.includes(name);
  }

  /** This process wrote a name's control: apply it now, no read needed. */
  apply(control: NameControl): void {
    if (!this.names.includes(control.name)) return;
    const limited = new Set(this.limited);
    if (isInert(control)) limited.delete(control.name);
    else limited.add(control.name);
    this.set(limited);
  }

  /** Re-reads the control rows now. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** Another process committed something: re-read, at most once per pollMs. */
  changedElsewhere(): void {
    if (this.stopped || this.timer) return;
    const wait = this.readAt + Math.min(this.pollMs, MAX_REREAD_MS) - performance.now();
    if (wait <= 0) void this.refresh();
    else this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, wait);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private set(limited: ReadonlySet<string>): void {
    const next = this.names.filter((n) => limited.has(n));
    const changed = next.join('\u0000') !== this.limited.join('\u0000');
    this.limited = next;
    this.plain = this.names.filter((n) => !limited.has(n));
    if (changed && !this.stopped) this.onChange();
  }

  private async read(): Promise<void> {
    this.readAt = performance.now();
    try {
      const controls = await this.store.controls();
      this.set(new Set(controls.filter((c) => !isInert(c)).map((c) => c.name)));
    } catch (error) {
      // The claims that follow fail (and are reported) the same way; keep the split we had.
      this.logger.debug(`could not read flow control at ${this.clock.now()}: ${(error as Error).message}`);
    }
  }
}
