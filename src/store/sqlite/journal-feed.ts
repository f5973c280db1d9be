import type Database from 'better-sqlite3';
import type { Job } from '../../job.ts';
import type { Logger } from '../../logger.ts';
import { type ChangeNote, eventsOf, unionInterest } from '../change-batch.ts';
import type { StatementCounter } from '../statement-counter.ts';
import type { FeedEvent, JobChangeType, WatchJobsParams } from '../store.ts';
import { CHANGE_ORDER } from './journal.ts';
import { type JobRow, rowToJob } from './rows.ts';

/** Journal rows read per statement: at most ~400 changes each in a drain, so a read returns a bounded batch. */
const ROWS_PER_READ = 50;
/**
 * Shortest time between two reads. Local commits ask for a read after each transaction; a drain commits
 * hundreds of times a second, and one read per 20 ms gathers them (about 50 statements a second at most).
 */
const MIN_READ_GAP_MS = 20;

/** A row of READ_CHANGES: a summary row (type null) or one change with the job's columns (null if gone). */
type ChangeRow = Omit<JobRow, 'id'> & { type: JobChangeType | null; ref: unknown; seq: number | null; last: number | null; job_id: number | null };

/**
 * SQLite's itemised change feed. Every write transaction of every process appends one journal row (ids by
 * change type); this reader follows the journal from where it subscribed: after each local commit (`poke`)
 * and whenever PRAGMA data_version says another process committed (the `external` wake-ups of the store's
 * DataVersionFeed). Each read is ONE statement returning the changes and the jobs they touched, filtered to
 * the subscribers' interest. Journal rows are ordered by the write lock, so a reader never skips a commit;
 * if it falls so far behind that rows it needed were pruned, subscribers get a gap.
 */
export class JournalFeed {
  private readonly subscribers = new Set<WatchJobsParams>();
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastRead = 0;
  private unwake: (() => void) | undefined;
  /**
   * Held while anyone watches: the feed's own timers are unref'd (workers share them), and a script that
   * awaits queue.waitFor() must not exit with the promise pending, as it would not on PostgreSQL (whose
   * LISTEN connection holds the process).
   */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly statements: { read: Database.Statement; last: Database.Statement },
    private readonly counter: StatementCounter,
    /** Subscribes to the store's cross-process wake-ups (data_version). */
    private readonly wakeups: (listener: (events: FeedEvent[]) => void) => () => void,
    private readonly logger: Logger,
  ) {}

  watch(subscriber: WatchJobsParams): () => void {
    if (this.subscribers.size === 0) {
      this.counter.record('watch');
      this.since = (this.statements.last.get() as { seq: number }).seq;
      this.unwake = this.wakeups(() => this.poke());
      this.keepAlive = setInterval(() => {}, 2 ** 30);
    }
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  /** Something committed (here or elsewhere): read soon, at most once per MIN_READ_GAP_MS. */
  poke(): void {
    if (this.subscribers.size === 0 || this.timer) return;
    const wait = Math.max(0, this.lastRead + MIN_READ_GAP_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.read();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unwake?.();
    this.unwake = undefined;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private read(): void {
    if (this.subscribers.size === 0 || !this.db.open) return;
    this.lastRead = performance.now();
    const interest = unionInterest([...this.subscribers].map((s) => s.interest()));
    let rows: ChangeRow[];
    try {
      this.counter.record('watch');
      rows = this.statements.read.all({
        since: this.since,
        rows: ROWS_PER_READ,
        all: interest.all ? 1 : 0,
        ids: JSON.stringify([...interest.ids].map(Number)),
        names: JSON.stringify([...interest.names]),
      }) as ChangeRow[];
    } catch (error) {
      this.logger.warn(`change feed read failed; retrying: ${(error as Error).message}`);
      this.poke();
      return;
    }
    const [summary, ...changes] = rows;
    if (!summary || summary.seq === null || summary.last === null) return; // nothing new
    if (summary.seq > this.since + 1) this.gap(`the change journal was pruned past this reader (read from ${this.since}, oldest left ${summary.seq})`);
    this.since = summary.last;

    const notes: (ChangeNote & { seq: number })[] = [];
    const jobs = new Map<string, Job>();
    for (const row of changes) {
      const deleted = row.type === 'deleted';
      const [ref, deletedName] = deleted ? (JSON.parse(String(row.ref)) as [number, string]) : [row.ref as number, null];
      const id = String(ref);
      notes.push({ type: row.type!, id, name: deleted ? deletedName : row.name, seq: row.seq! });
      if (row.job_id !== null) jobs.set(id, rowToJob({ ...row, id: row.job_id }));
    }
    notes.sort((a, b) => a.seq - b.seq || CHANGE_ORDER.indexOf(a.type) - CHANGE_ORDER.indexOf(b.type));
    const events = eventsOf(notes, jobs);
    if (events.length > 0) {
      for (const s of this.subscribers) {
        try {
          s.onChanges(events);
        } catch (error) {
          this.logger.error(`a change feed subscriber threw: ${(error as Error)?.message ?? error}`);
        }
      }
    }
    // A full read may have left more behind it: read again at once (the gap rule still bounds the rate).
    if (summary.last - summary.seq + 1 >= ROWS_PER_READ) this.poke();
  }

  private gap(reason: string): void {
    for (const s of this.subscribers) {
      try {
        s.onGap(reason);
      } catch (error) {
        this.logger.error(`a change feed subscriber threw on a gap: ${(error as Error)?.message ?? error}`);
      }
    }
  }
}
