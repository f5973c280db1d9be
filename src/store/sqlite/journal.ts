import { JOB_STATUSES, type JobStatus } from '../../job.ts';
import type { JobChangeType } from '../store.ts';

/** The order changes of one job happen in, within one statement: how a reader sorts one journal row's notes. */
export const CHANGE_ORDER: readonly JobChangeType[] = ['added', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled', 'deleted'];

/**
 * What one SQLite write transaction changed, gathered from its statements' RETURNING rows and written as ONE
 * row of `spool_changes` at the end of the same transaction:
 *
 * - `events`: job ids by change type (`{"started":[4,5],"completed":[3]}`; deleted jobs as `[id, name]`),
 *   which the change feed of every process reads (journal-feed.ts);
 * - `deltas`: per-name counts moved between statuses, completions and failures per minute (throughput), and
 *   when a name was last claimed, added to `spool_counters` by a trigger on the insert.
 *
 * So the feed and the exact counts cost one small insert per transaction, whatever its number of jobs, and
 * nothing per job: no per-row trigger, no extra index on the jobs table. Designs compared on a 100,000-job
 * claim/complete cycle in batches of 400 (.tmp/counters-bench.ts, rough, machine loaded, min of 9): a per-row
 * trigger cost +15%, a per-row change sequence with its index +20%, one upsert per transaction +6%.
 * As built, measured against the same code without journal (rough, loaded 2-core machine, min of 7):
 * store-level claim/complete cycle 764 → 856 ms per 100,000 jobs (+12%, of which about half is the
 * journal insert and half reading the RETURNING rows); worker drain of 40,000 no-op jobs at concurrency 10
 * 644 → 683 ms (+6%). The lead's quiet-machine W3 run is the figure to quote.
 */
export class Journal {
  private readonly events = new Map<JobChangeType, (number | [number, string])[]>();
  /** name → status → jobs moved in (negative: out). */
  private readonly counts = new Map<string, Map<JobStatus, number>>();
  private readonly minutes = new Map<string, [completed: number, failed: number]>();
  private readonly claimed = new Set<string>();
  // Run-length caches: the rows of one statement nearly always repeat the same change (400 claims of one
  // name from pending), so each row costs a comparison instead of map look-ups.
  private lastType: JobChangeType | undefined;
  private lastIds: (number | [number, string])[] = [];
  private run: { name: string; from: JobStatus | null; to: JobStatus | null; n: number } | undefined;

  /** Records a change of one job for the feed. */
  note(type: JobChangeType, id: number | string, name?: string): void {
    if (type !== this.lastType) {
      let ids = this.events.get(type);
      if (!ids) this.events.set(type, (ids = []));
      this.lastType = type;
      this.lastIds = ids;
    }
    this.lastIds.push(type === 'deleted' ? [Number(id), name ?? ''] : Number(id));
  }

  /** Records a job of `name` leaving status `from` and entering `to` (null: inserted, or deleted). */
  move(name: string, from: JobStatus | null, to: JobStatus | null): void {
    if (from === to) return;
    const run = this.run;
    if (run && run.name === name && run.from === from && run.to === to) {
      run.n++;
      return;
    }
    this.flushRun();
    this.run = { name, from, to, n: 1 };
  }

  /** Records a job that ended (completed, or failed for good) in this transaction, for throughput per minute. */
  ended(name: string, status: 'completed' | 'failed'): void {
    let m = this.minutes.get(name);
    if (!m) this.minutes.set(name, (m = [0, 0]));
    m[status === 'completed' ? 0 : 1]++;
  }

  /** Records that a worker claimed jobs of this name. */
  claim(name: string): void {
    this.claimed.add(name);
  }

  /** True when the transaction changed nothing worth a journal row. */
  get empty(): boolean {
    return this.events.size === 0 && this.counts.size === 0 && this.run === undefined && this.claimed.size === 0;
  }

  /**
   * The journal row's parameters. `deltas` is one array of counter changes `[name, kind, key, n]` (kinds in
   * COUNTER_KIND), which the trigger adds to `spool_counters` in one upsert.
   */
  toRow(now: number): { at: number; events: string; deltas: string | null } {
    this.flushRun();
    const events: Record<string, unknown> = {};
    for (const type of CHANGE_ORDER) if (this.events.has(type)) events[type] = this.events.get(type);
    const deltas: [string, number, number, number][] = [];
    for (const [name, byStatus] of this.counts) {
      for (const [status, n] of byStatus) if (n !== 0) deltas.push([name, COUNTER_KIND.status, STATUS_CODE[status], n]);
    }
    const minute = Math.floor(now / 60_000);
    for (const [name, [done, failed]] of this.minutes) {
      if (done > 0) deltas.push([name, COUNTER_KIND.completedInMinute, minute, done]);
      if (failed > 0) deltas.push([name, COUNTER_KIND.failedInMinute, minute, failed]);
    }
    for (const name of this.claimed) deltas.push([name, COUNTER_KIND.lastClaim, 0, now]);
    return { at: now, events: JSON.stringify(events), deltas: deltas.length > 0 ? JSON.stringify(deltas) : null };
  }

  private flushRun(): void {
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    if (run.from !== null) this.bump(run.name, run.from, -run.n);
    if (run.to !== null) this.bump(run.name, run.to, run.n);
  }

  private bump(name: string, status: JobStatus, by: number): void {
    let byStatus = this.counts.get(name);
    if (!byStatus) this.counts.set(name, (byStatus = new Map()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + by);
  }
}

/**
 * What a row of `spool_counters` counts. One table for all of them, so a transaction's counter changes touch
 * one b-tree (usually one page) in one upsert.
 */
export const COUNTER_KIND = {
  /** Jobs of `name` in status `key` (STATUS_CODE). */
  status: 0,
  /** Jobs of `name` completed in minute `key` (epoch ms / 60,000). */
  completedInMinute: 1,
  /** Jobs of `name` that failed for good in minute `key`. */
  failedInMinute: 2,
  /** `n`: when a worker last claimed jobs of `name` (epoch ms); `key` 0. */
  lastClaim: 3,
} as const;

/** Statuses as counter keys: their index in JOB_STATUSES. */
export const STATUS_CODE: Record<JobStatus, number> = Object.fromEntries(JOB_STATUSES.map((s, i) => [s, i])) as Record<JobStatus, number>;
