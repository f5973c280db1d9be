import type Database from 'better-sqlite3';
import type { FeedEvent } from '../store.ts';

/** How often the feed reads PRAGMA data_version while someone listens: an in-memory read, no disk I/O. */
const POLL_MS = 50;

/**
 * SQLite's change feed: PRAGMA data_version changes when another connection (another process) commits to
 * the file. Reading it costs no statement against the jobs table and no write, so watching is free for the
 * writers; listeners learn that something changed elsewhere and re-read (a worker claims again).
 */
export class DataVersionFeed {
  private readonly listeners = new Set<(events: FeedEvent[]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private version = 0;

  constructor(private readonly db: Database.Database) {}

  watch(listener: (events: FeedEvent[]) => void): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.version = this.read();
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    if (!this.db.open) return this.stop();
    const version = this.read();
    if (version === this.version) return;
    this.version = version;
    const events: FeedEvent[] = [{ type: 'external' }];
    for (const listener of this.listeners) listener(events);
  }

  private read(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}
