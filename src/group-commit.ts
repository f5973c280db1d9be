import type { NewJob, Store } from './store/store.ts';

/** What one add() gets back from the statement it shared: its id, and the time the statement stamped on it. */
export interface Committed {
  id: string;
  now: number;
}

interface Waiting {
  job: NewJob;
  resolve: (committed: Committed) => void;
  reject: (error: unknown) => void;
}

/**
 * Jobs one shared statement carries at most: a few milliseconds of producers. The enqueue statement's cost
 * grows with its rows (one JSON parameter), so a larger group only delays the first of them.
 */
const MAX_GROUP = 1_000;

/**
 * Group commit for add(): concurrent add() calls of one process share one enqueue statement, so one commit
 * (and, on PostgreSQL, one NOTIFY) serves all of them. An add() that finds a lane free is sent at once (a
 * lone producer waits for nothing); adds that arrive while every lane has a statement on the wire wait and
 * go together in the next. Every add() still resolves only once its own job is committed, with its own id;
 * a uniqueKey held by another job resolves to that job's id, as it would alone.
 *
 * If the database refuses a shared statement for a value it cannot hold (StoreError.retryable false), the
 * group is split in halves and each half sent again, so the job at fault gets the error and the others
 * are stored: ⌈log2 n⌉ extra statements at most per refused job. Any other failure (a lost connection)
 * fails every add of that statement: nothing of it was committed.
 *
 * Cost: p adds made at once take 2 statements on SQLite (the first alone, then the rest) and 3 on
 * PostgreSQL (one per lane, then the rest), instead of p.
 */
export class GroupCommit {
  private waiting: Waiting[] = [];
  private sending = 0;
  /**
   * Statements on the wire at once. Two on a server store, so it commits one group while this process
   * resolves the previous one and gathers the next; one on SQLite, whose insert runs (and fsyncs) inside
   * the call, so a second lane would only split the group.
   */
  private readonly lanes: number;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {
    this.lanes = store.parallel ? 2 : 1;
  }

  /** Stores `job` with whatever other adds are waiting; resolves once it is committed. */
  add(job: NewJob): Promise<Committed> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ job, resolve, reject });
      if (this.sending < this.lanes) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.sending++;
    try {
      while (this.waiting.length > 0) await this.send(this.waiting.splice(0, MAX_GROUP));
    } finally {
      this.sending--;
    }
  }

  private async send(group: Waiting[]): Promise<void> {
    const now = this.now();
    let ids: string[];
    try {
      ids = await this.store.enqueue({ jobs: group.map((w) => w.job), now });
    } catch (error) {
      if (group.length > 1 && (error as { retryable?: unknown } | null)?.retryable === false) {
        const half = Math.ceil(group.length / 2);
        await this.send(group.slice(0, half));
        await this.send(group.slice(half));
      } else {
        for (const w of group) w.reject(error);
      }
      return;
    }
    group.forEach((w, i) => w.resolve({ id: ids[i]!, now }));
  }
}
