import type { Job } from '../../job.ts';
import type { Logger } from '../../logger.ts';
import { type ChangeNote, eventsOf, unionInterest } from '../change-batch.ts';
import type { FeedEvent, WatchJobsParams } from '../store.ts';

/** Changes gathered before one read; beyond it the rest are dropped and subscribers told of a gap. */
const MAX_PENDING = 10_000;
/** How long notifications gather before a read: NOTIFYs of one drain arrive hundreds a second. */
const GATHER_MS = 10;

/**
 * PostgreSQL's itemised change feed, over the NOTIFY feed the statements already send (ids by change type).
 * Notifications are gathered for a few ms, then the jobs they name — only those a subscriber wants — are
 * read in ONE statement. A notification that carried counts instead of ids (a batch too large for a NOTIFY
 * payload) or a reconnect of the LISTEN connection is a gap: subscribers re-read what they show.
 */
export class NotifyJobFeed {
  private readonly subscribers = new Set<WatchJobsParams>();
  private pending: ChangeNote[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private unwake: (() => void) | undefined;

  constructor(
    /** Subscribes to the store's NOTIFY feed. */
    private readonly wakeups: (listener: (events: FeedEvent[]) => void) => () => void,
    /** Reads jobs by id, one statement. */
    private readonly read: (ids: string[]) => Promise<Job[]>,
    private readonly logger: Logger,
  ) {}

  watch(subscriber: WatchJobsParams): () => void {
    this.subscribers.add(subscriber);
    this.unwake ??= this.wakeups((events) => this.onNotify(events));
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size > 0) return;
      this.unwake?.();
      this.unwake = undefined;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.pending = [];
    };
  }

  private onNotify(events: FeedEvent[]): void {
    if (this.subscribers.size === 0) return;
    const interest = unionInterest([...this.subscribers].map((s) => s.interest()));
    for (const event of events) {
      if (event.type === 'external') {
        this.gap('the change feed connected or reconnected: changes meanwhile were not itemised');
        continue;
      }
      const byName = interest.all || event.names.some((n) => interest.names.has(n));
      if ((event.count ?? event.ids.length) > event.ids.length && (byName || interest.ids.size > 0)) {
        this.gap(`a batch of ${event.count} '${event.type}' changes was too large to itemise`);
      }
      const name = event.names.length === 1 ? event.names[0] : null;
      for (const id of event.ids) {
        if (byName || interest.ids.has(id)) this.pending.push({ type: event.type, id, name });
      }
    }
    if (this.pending.length > MAX_PENDING) {
      this.pending = [];
      this.gap(`more than ${MAX_PENDING} changes waited to be read`);
    }
    if (this.pending.length > 0 && !this.timer && !this.reading) {
      this.timer = setTimeout(() => void this.flush(), GATHER_MS);
      this.timer.unref();
    }
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const notes = this.pending;
    this.pending = [];
    if (notes.length === 0 || this.subscribers.size === 0) return;
    this.reading = true;
    try {
      const ids = [...new Set(notes.filter((n) => n.type !== 'deleted').map((n) => n.id))];
      const jobs = ids.length > 0 ? await this.read(ids) : [];
      const events = eventsOf(notes, new Map(jobs.map((j) => [j.id, j])));
      if (events.length > 0) {
        for (const s of this.subscribers) {
          try {
            s.onChanges(events);
          } catch (error) {
            this.logger.error(`a change feed subscriber threw: ${(error as Error)?.message ?? error}`);
          }
        }
      }
    } catch (error) {
      this.logger.warn(`change feed could not read ${notes.length} changed jobs: ${(error as Error).message}`);
      this.gap('changed jobs could not be read');
    } finally {
      this.reading = false;
      if (this.pending.length > 0 && !this.timer) {
        this.timer = setTimeout(() => void this.flush(), GATHER_MS);
        this.timer.unref();
      }
    }
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
