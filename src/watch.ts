import { JobFailedError, JobNotFoundError, SpoolError, WaitTimeoutError } from './errors.ts';
import type { WatchEvent } from './events.ts';
import type { Job } from './job.ts';
import type { Logger } from './logger.ts';
import { unionInterest, wants } from './store/change-batch.ts';
import type { Store, WatchInterest } from './store/store.ts';

/** Options of queue.watch(): which jobs to hear of (names OR ids; neither: every job). */
export interface WatchOptions {
  /** Jobs of these names. */
  names?: string[];
  /** These jobs. */
  ids?: string[];
  /**
   * Called when changes may have been missed: the feed (re)connected, a batch was too large to itemise
   * (PostgreSQL NOTIFY payloads are limited), or this process fell far behind. Re-read what you show.
   */
  onGap?: (reason: string) => void;
}

/** A listener of queue.watch(). */
export type WatchListener = (event: WatchEvent) => void;

interface Subscription {
  listener: WatchListener;
  interest: WatchInterest;
  onGap?: (reason: string) => void;
}

interface Waiter {
  id: string;
  resolve: (job: Job) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * The change feed as the queue offers it: ONE store subscription per queue (so per process, usually), fanned
 * out to every watcher and waitFor() in it. The store reads only the jobs someone wants (the union of the
 * watchers' names and ids), one statement per batch of changes. Idle (no store subscription) when nobody
 * watches.
 */
export class Watchers {
  private readonly subscriptions = new Set<Subscription>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private unsubscribe: (() => void) | undefined;
  private interest: WatchInterest = { all: false, names: new Set(), ids: new Set() };

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Adds a watcher; returns its unsubscribe function. */
  add(listener: WatchListener, options: WatchOptions): () => void {
    const names = new Set(options.names ?? []);
    const ids = new Set(options.ids ?? []);
    const subscription: Subscription = {
      listener,
      interest: { all: names.size === 0 && ids.size === 0, names, ids },
      ...(options.onGap ? { onGap: options.onGap } : {}),
    };
    this.subscriptions.add(subscription);
    this.changed();
    return () => {
      if (this.subscriptions.delete(subscription)) this.changed();
    };
  }

  /** Resolves with the completed job; rejects with JobFailedError, JobNotFoundError or WaitTimeoutError. */
  waitFor(id: string, timeoutMs: number | undefined): Promise<Job> {
    return new Promise<Job>((resolve, reject) => {
      const waiter: Waiter = { id, resolve, reject, timer: undefined };
      const settle = (fn: () => void) => {
        clearTimeout(waiter.timer);
        this.removeWaiter(waiter);
        fn();
      };
      waiter.resolve = (job) => settle(() => resolve(job));
      waiter.reject = (error) => settle(() => reject(error));
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          void this.store.get(id).then(
            (job) => waiter.reject(new WaitTimeoutError(id, timeoutMs, job?.status)),
            () => waiter.reject(new WaitTimeoutError(id, timeoutMs, undefined)),
          );
        }, timeoutMs);
      }
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      set.add(waiter);
      this.changed();
      // Subscribed first, read second: a change between the two is seen by one or the other.
      this.store.get(id).then(
        (job) => this.settleWith(id, job),
        (error: unknown) => waiter.reject(error as Error),
      );
    });
  }

  /** Unsubscribes everything; pending waitFor() calls reject. */
  close(): void {
    this.subscriptions.clear();
    for (const set of [...this.waiters.values()]) {
      for (const w of [...set]) w.reject(new SpoolError('QUEUE_CLOSED', `the queue was closed while waiting for job ${w.id}`));
    }
    this.changed();
  }

  private removeWaiter(waiter: Waiter): void {
    const set = this.waiters.get(waiter.id);
    if (!set?.delete(waiter)) return;
    if (set.size === 0) this.waiters.delete(waiter.id);
    this.changed();
  }

  /** Recomputes what the store must read, and subscribes or unsubscribes the store. */
  private changed(): void {
    this.interest = unionInterest([
      ...[...this.subscriptions].map((s) => s.interest),
      { all: false, names: new Set(), ids: new Set(this.waiters.keys()) },
    ]);
    const needed = this.subscriptions.size > 0 || this.waiters.size > 0;
    if (needed && !this.unsubscribe) {
      this.unsubscribe = this.store.watchJobs({
        interest: () => this.interest,
        onChanges: (events) => this.deliver(events),
        onGap: (reason) => this.gap(reason),
      });
    } else if (!needed && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  private deliver(events: WatchEvent[]): void {
    for (const event of events) {
      if (this.waiters.has(event.job.id)) {
        if (event.type === 'deleted') this.settleWith(event.job.id, null);
        else this.settleWith(event.job.id, event.job);
      }
      for (const s of [...this.subscriptions]) {
        if (!wants(s.interest, event.job.id, event.job.name)) continue;
        try {
          s.listener(event);
        } catch (error) {
          this.logger.error(`a watch listener threw: ${(error as Error)?.message ?? error}`, { jobId: event.job.id });
        }
      }
    }
  }

  private gap(reason: string): void {
    for (const s of [...this.subscriptions]) {
      try {
        s.onGap?.(reason);
      } catch (error) {
        this.logger.error(`a watch gap listener threw: ${(error as Error)?.message ?? error}`);
      }
    }
    // waitFor() must not hang on a missed completion: re-read every awaited job, one statement.
    const ids = [...this.waiters.keys()];
    if (ids.length === 0) return;
    this.store.getMany(ids).then(
      (jobs) => {
        const found = new Map(jobs.map((j) => [j.id, j]));
        for (const id of ids) this.settleWith(id, found.get(id) ?? null);
      },
      (error: unknown) => this.logger.warn(`waitFor could not re-read ${ids.length} jobs after a feed gap: ${(error as Error).message}`),
    );
  }

  /** Settles the waiters of `id` if the job (null: gone) is final. */
  private settleWith(id: string, job: Job | null): void {
    const set = this.waiters.get(id);
    if (!set) return;
    if (job !== null && !FINAL.has(job.status)) return;
    for (const w of [...set]) {
      if (job === null) w.reject(new JobNotFoundError(id));
      else if (job.status === 'completed') w.resolve(job);
      else w.reject(new JobFailedError(job));
    }
  }
}
