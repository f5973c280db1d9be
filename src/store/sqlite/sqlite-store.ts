import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError, ValidationError } from '../../errors.ts';
import { emptyCounts, JOB_STATUSES, type Job, type JobCounts, type JobStatus } from '../../job.ts';
import { defaultLogger, type Logger } from '../../logger.ts';
import { claimOrder, compareIds, isRowId, orderEnqueuedIds } from '../job-ids.ts';
import { StatementCounter } from '../statement-counter.ts';
import type {
  BulkParams, BulkResult, ClaimParams, ClaimResult, FeedEvent, FinishResult, JobFilter, ListFilter, MinuteCount, NameStats, NewJob, Outcome,
  PageParams, ScheduleFire, ScheduleRow, Store, StoreStats, TickParams, TickResult, TransitionOp, WatchJobsParams,
} from '../store.ts';
import { transitionRefused, uniqueKeyHeld } from '../transition-error.ts';
import { DataVersionFeed } from './data-version-feed.ts';
import { DiskFullRecovery } from './disk-full.ts';
import { chunkSql, countSql, pageSql } from './filter-statements.ts';
import { SqliteFlows } from './flows.ts';
import { Journal } from './journal.ts';
import { JournalFeed } from './journal-feed.ts';
import { type ClaimedRow, claimedRowToJob, type JobRow, rowToJob } from './rows.ts';
import type { NameControl } from '../../limits/limits.ts';
import { type ControlRow, controlFromRow } from '../../limits/control-row.ts';
import { claimLimited, controlParams, type LimitStatements, prepareLimitStatements } from './limited-claim.ts';
import { prepareScheduleStatements, type ScheduleRecord, toScheduleRow } from './schedule-statements.ts';
import { migrate } from './schema.ts';
import * as SQL from './statements.ts';
import { CLAIMED_COLUMNS } from './statements.ts';
import { splitDue } from '../schedule-due.ts';

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  /**
   * 'full' (default) fsyncs the WAL at every commit: a committed job survives power loss. 'normal' survives
   * a process crash but may lose the last commits on power loss; it saves an fsync per commit, so its gain is
   * the disk's fsync cost: single add() calls 347/s → 6,352/s on a loaded 2-core box (bench/durability.ts).
   */
  durability?: 'full' | 'normal';
  /** How long a writer waits for another process's write lock before failing; default 10 s. */
  busyTimeoutMs?: number;
  /** Where the change feed reports what it cannot throw; default stderr. */
  logger?: Logger;
  /**
   * Called with the text of every statement SQLite runs on this store's connection (better-sqlite3's
   * `verbose` hook): tests count statements at the driver, where one sent around the store's own counter shows.
   */
  trace?: (sql: string) => void;
}

const NO_CURSOR = Number.MAX_SAFE_INTEGER;
const PREV_STATUS = CLAIMED_COLUMNS.indexOf('prev_status');
/** Journal rows kept for readers behind the newest (each one write transaction); older ones are pruned. */
const JOURNAL_KEEP = 2_000;
/** Journal rows this store writes between two prunes of the journal and of old throughput minutes. */
const PRUNE_EVERY = 200;
/** Throughput minutes kept: 8 days. */
const MINUTES_KEPT = 8 * 24 * 60;

/**
 * The embedded store: one SQLite file in WAL mode through better-sqlite3. Calls are synchronous
 * underneath (SQLite runs in-process), so a round trip is a function call and a commit; several
 * processes on one machine may share the file (SQLite serialises their writes).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly parallel = false;
  private readonly db: Database.Database;
  private readonly counter = new StatementCounter();
  private readonly stmt: ReturnType<typeof prepareAll>;
  private readonly flows: SqliteFlows;
  private readonly limitStmt: LimitStatements;
  private readonly sched: ReturnType<typeof prepareScheduleStatements>;
  private readonly feed: DataVersionFeed;
  private readonly jobFeed: JournalFeed;
  private readonly tx: <T>(work: () => T) => T;
  private journalWrites = 0;
  /** Statements whose text follows a filter's shape (filter-statements.ts), prepared once per shape. */
  private readonly shaped = new Map<string, Database.Statement>();
  private readonly diskFull: DiskFullRecovery;
  private readonly path: string;

  constructor(options: SqliteStoreOptions) {
    let db: Database.Database | undefined;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path, options.trace ? { verbose: (sql) => options.trace!(String(sql)) } : {});
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      migrate(db);
      this.db = db;
    } catch (cause) {
      // Don't leak the handle of a file we refuse (not a database, or a migration that failed).
      if (db?.open) db.close();
      throw new StoreError(
        `could not open SQLite database ${options.path}: ${(cause as Error).message}; check that the URL names a Spool database file in a writable directory`,
        { cause },
      );
    }
    this.path = options.path;
    this.diskFull = new DiskFullRecovery(this.db, options.path);
    this.stmt = prepareAll(this.db);
    this.flows = new SqliteFlows(this.db);
    this.limitStmt = prepareLimitStatements(this.db);
    this.sched = prepareScheduleStatements(this.db);
    this.feed = new DataVersionFeed(this.db);
    this.jobFeed = new JournalFeed(
      this.db,
      { read: this.stmt.readChanges, last: this.stmt.lastChange },
      this.counter,
      (listener) => this.feed.watch(listener),
      options.logger ?? defaultLogger,
    );
    const tx = this.db.transaction((work: () => unknown) => work());
    this.tx = <T>(work: () => T) => tx.immediate(work) as T;
  }

  /**
   * Runs one write transaction: `work` runs its statements and notes what they changed in the journal, which
   * is appended as one row before the commit. Counts one round trip; `work` returns how many statements it ran.
   */
  private write<T>(method: string, what: string, now: number, work: (journal: Journal) => { value: T; statements: number }): T {
    return this.run(method, 0, what, () => {
      let journaled = 0;
      const { value, statements } = this.tx(() => {
        const journal = new Journal();
        const done = work(journal);
        if (!journal.empty) journaled = this.appendJournal(journal, now);
        return done;
      });
      this.counter.add(method, statements);
      if (journaled > 0) {
        this.counter.add('journal', journaled);
        this.jobFeed.poke();
      }
      return value;
    });
  }

  /** Appends the journal row (and, every PRUNE_EVERY rows, prunes old ones); returns the statements it ran. */
  private appendJournal(journal: Journal, now: number): number {
    const { lastInsertRowid } = this.stmt.insertChange.run(journal.toRow(now));
    if (++this.journalWrites % PRUNE_EVERY !== 0) return 1;
    this.stmt.pruneChanges.run({ upTo: Number(lastInsertRowid) - JOURNAL_KEEP });
    this.stmt.pruneMinutes.run({ before: Math.floor(now / 60_000) - MINUTES_KEPT });
    return 3;
  }

  async enqueue(p: { jobs: NewJob[]; now: number; client?: unknown }): Promise<string[]> {
    if (p.client !== undefined) {
      throw new ValidationError([
        'options.client (enqueue inside your own transaction) needs PostgreSQL; this queue is on SQLite. Drop client, or open the queue on postgres://…',
      ]);
    }
    if (p.jobs.length === 0) return [];
    const payload = JSON.stringify(p.jobs.map(toInsertable));
    const rows = this.write('enqueue', 'insert jobs', p.now, (journal) => ({ value: this.insertJobs(payload, p.now, journal), statements: 1 }));
    return orderEnqueuedIds(
      p.jobs,
      rows.map((r) => ({ id: String(r.id), uniqueKey: r.unique_key })),
      (keys) => this.holdersOf(keys, 'enqueue'),
    );
  }

  async enqueueFlow(p: { parent: NewJob; children: NewJob[]; now: number }): Promise<{ id: string; childIds: string[] }> {
    return this.write('enqueue', 'insert a flow', p.now, (journal) => ({ value: this.flows.insert(p.parent, p.children, p.now, journal), statements: 2 }));
  }

  async children(p: { parentId: string; ignored: boolean }): Promise<Job[]> {
    if (!isRowId(p.parentId)) return [];
    const rows = this.run('children', 1, `get the children of job ${p.parentId}`, () =>
      this.flows.selectChildren.all({ parent: Number(p.parentId), ignored: p.ignored ? 1 : 0 }) as JobRow[],
    false);
    return rows.map(rowToJob);
  }

  /** Inserts jobs (JSON of toInsertable) inside the caller's write transaction and notes them in its journal. */
  private insertJobs(payload: string, now: number, journal: Journal) {
    const inserted = this.stmt.insertJobs.all({ jobs: payload, now }) as { id: number; unique_key: string | null; name: string; status: JobStatus }[];
    for (const row of inserted) {
      journal.note('added', row.id);
      journal.move(row.name, null, row.status);
      if (row.status === 'running') {
        journal.note('started', row.id);
        journal.claim(row.name);
      }
    }
    return inserted;
  }

  async scheduleUpsert(p: { row: ScheduleRow; now: number }): Promise<ScheduleRow> {
    const r = p.row;
    const params = {
      key: r.key, cron: r.cron, tz: r.tz, every: r.every, name: r.name, data: r.dataJson, options: r.optionsJson, missed: r.missed,
      now: p.now, next: r.nextRunAt,
    };
    return toScheduleRow(this.run('schedules', 1, 'save a schedule', () => this.sched.upsert.get(params) as ScheduleRecord));
  }

  async schedules(p: { key?: string }): Promise<ScheduleRow[]> {
    const rows = this.run('schedules', 1, 'read schedules', () => this.sched.select.all({ key: p.key ?? null }) as ScheduleRecord[], false);
    return rows.map(toScheduleRow);
  }

  async schedulePause(p: { key: string; paused: boolean; now: number; nextRunAt: number | null }): Promise<ScheduleRow | null> {
    const params = { key: p.key, paused: p.paused ? 1 : 0, now: p.now, next: p.nextRunAt };
    const row = this.run('schedules', 1, 'pause or resume a schedule', () => this.sched.pause.get(params) as ScheduleRecord | undefined);
    return row ? toScheduleRow(row) : null;
  }

  async scheduleDelete(p: { key: string }): Promise<boolean> {
    return this.run('schedules', 1, 'delete a schedule', () => this.sched.delete.run({ key: p.key }).changes > 0);
  }

  async schedulesDue(p: { names: string[]; now: number; limit: number }): Promise<{ due: ScheduleRow[]; nextAt: number | null }> {
    const params = { names: JSON.stringify(p.names), now: p.now, limit: p.limit };
    const rows = this.run('schedulesDue', 1, 'read due schedules', () => this.sched.due.all(params) as ScheduleRecord[], false).map(toScheduleRow);
    return splitDue(rows, p.now);
  }

  async schedulesFire(p: { fires: ScheduleFire[]; now: number }): Promise<{ fired: string[]; jobIds: string[] }> {
    if (p.fires.length === 0) return { fired: [], jobIds: [] };
    const fires = JSON.stringify(p.fires.map((f) => ({ key: f.key, revision: f.revision, from: f.firedThrough, to: f.newFiredThrough, last: f.lastRunAt, next: f.nextRunAt })));
    return this.write('schedulesFire', 'fire schedules', p.now, (journal) => {
      const won = new Set((this.sched.fire.all({ fires }) as { key: string }[]).map((r) => r.key));
      const jobs = p.fires.filter((f) => won.has(f.key)).flatMap((f) => f.jobs);
      const inserted = jobs.length > 0 ? this.insertJobs(JSON.stringify(jobs.map(toInsertable)), p.now, journal) : [];
      return { value: { fired: [...won], jobIds: inserted.map((r) => String(r.id)) }, statements: jobs.length > 0 ? 2 : 1 };
    });
  }

  async nextDueAt(p: { names: string[]; now: number }): Promise<{ job: number | null; schedule: number | null }> {
    const params = { names: JSON.stringify(p.names), now: p.now };
    type Row = { at: number | null; schedule_at: number | null };
    const row = this.run('nextDueAt', 1, 'read the next due time', () => this.sched.nextDue.get(params) as Row | undefined, false);
    return { job: row?.at ?? null, schedule: row?.schedule_at ?? null };
  }

  async pruneKeep(p: { status: JobStatus; keep: number; limit: number }): Promise<number> {
    if (p.limit <= 0) return 0;
    return this.write('prune', 'prune finished jobs beyond a count', Date.now(), (journal) => {
      const gone = this.sched.pruneKeep.all({ status: p.status, keep: p.keep, limit: p.limit }) as { name: string; status: JobStatus }[];
      for (const row of gone) journal.move(row.name, row.status, null);
      return { value: gone.length, statements: 1 };
    });
  }

  /** The pending or running job holding each key, one statement. */
  private async holdersOf(keys: string[], method = 'transition'): Promise<Map<string, string>> {
    const found = this.run(method, 1, 'look up unique keys', () =>
      this.stmt.idsByUniqueKey.all({ keys: JSON.stringify(keys) }) as { id: number; unique_key: string }[],
    false);
    return new Map(found.map((r) => [r.unique_key, String(r.id)]));
  }

  async claim(p: ClaimParams): Promise<ClaimResult> {
    const finishing = p.finish !== undefined && p.finish.length > 0;
    if (p.limit <= 0 && !finishing) return { jobs: [], finished: [], cancelled: [] };
    const { jobs, finished, cancelled, parentsReady, retryAt } = this.write('claim', 'claim jobs', p.now, (journal) => {
      const done = p.finish ? this.runFinish(p.workerId, p.now, p.finish, journal) : { finished: [], cancelled: [], statements: 0, parentsReady: 0 };
      if (p.limit <= 0) return { value: { jobs: [] as Job[], finished: done.finished, cancelled: done.cancelled, parentsReady: done.parentsReady, retryAt: undefined as number | undefined }, statements: done.statements };
      const claim = { workerId: p.workerId, now: p.now, leaseUntil: p.now + p.leaseMs };
      let rows: ClaimedRow[] = [];
      let statements = done.statements;
      let retryAt: number | undefined;
      if (p.limited !== undefined && p.limited.length > 0) {
        const limited = claimLimited(this.limitStmt, p.limited, p.limit, claim);
        rows = limited.rows;
        statements += limited.statements;
        if (limited.retryAt !== null) retryAt = limited.retryAt;
      }
      if (p.limited === undefined || (p.names.length > 0 && rows.length < p.limit)) {
        rows = rows.concat(this.stmt.claim.all({ ...claim, names: JSON.stringify(p.names), limit: p.limit - rows.length }) as ClaimedRow[]);
        statements++;
      }
      for (const row of rows) {
        const name = row[1] as string;
        journal.note('started', row[0] as number);
        journal.move(name, JOB_STATUSES[row[PREV_STATUS] as number]!, 'running');
        journal.claim(name);
      }
      const value = { jobs: rows.map((row) => claimedRowToJob(row, claim)), finished: done.finished, cancelled: done.cancelled, parentsReady: done.parentsReady, retryAt };
      return { value, statements };
    });
    return { jobs: jobs.sort(claimOrder), finished, cancelled, ...(parentsReady > 0 ? { parentsReady } : {}), ...(retryAt !== undefined ? { retryAt } : {}) };
  }

  async controls(): Promise<NameControl[]> {
    const rows = this.run('controls', 1, 'read flow control', () => this.limitStmt.controls.all() as ControlRow[], false);
    return rows.map(controlFromRow);
  }

  async setControl(p: { name: string; paused?: boolean; limits?: Omit<NameControl, 'name' | 'paused'>; now: number }): Promise<NameControl> {
    const row = this.run('controls', 1, `write the flow control of ${p.name}`, () =>
      this.limitStmt.upsertControl.get(controlParams(p)) as ControlRow,
    );
    return controlFromRow(row);
  }

  async setProgress(p: { updates: { id: string; json: string }[] }): Promise<string[]> {
    const updates = p.updates.filter((u) => isRowId(u.id));
    if (updates.length === 0) return [];
    const entries = JSON.stringify(updates.map((u) => [Number(u.id), u.json]));
    const rows = this.write('setProgress', 'write progress', Date.now(), (journal) => {
      const written = this.stmt.setProgress.all({ entries }) as { id: number }[];
      for (const row of written) journal.note('progress', row.id);
      return { value: written, statements: 1 };
    });
    return rows.map((r) => String(r.id));
  }

  async tick(p: TickParams): Promise<TickResult> {
    if (p.running.length === 0) return { cancelled: [], lost: [] };
    const progress = new Map(p.progress.map((e) => [e.id, e.json]));
    const entries = JSON.stringify(p.running.map((id) => [Number(id), progress.get(id) ?? null]));
    const rows = this.write('tick', 'worker tick', p.now, (journal) => {
      const ticked = this.stmt.tick.all({ entries, workerId: p.workerId, leaseUntil: p.now + p.leaseMs }) as { id: number; cancel_requested: number }[];
      for (const row of ticked) if (progress.has(String(row.id))) journal.note('progress', row.id);
      return { value: ticked, statements: 1 };
    });
    const held = new Set(rows.map((r) => String(r.id)));
    return {
      cancelled: rows.filter((r) => r.cancel_requested === 1).map((r) => String(r.id)),
      lost: p.running.filter((id) => !held.has(id)),
    };
  }

  async finish(p: { workerId: string; now: number; outcomes: Outcome[] }): Promise<FinishResult> {
    if (p.outcomes.length === 0) return { finished: [], cancelled: [] };
    return this.write('finish', 'finish jobs', p.now, (journal) => {
      const { finished, cancelled, statements, parentsReady } = this.runFinish(p.workerId, p.now, p.outcomes, journal);
      return { value: { finished, cancelled, ...(parentsReady > 0 ? { parentsReady } : {}) }, statements };
    });
  }

  async get(id: string): Promise<Job | null> {
    if (!isRowId(id)) return null;
    const row = this.run('get', 1, `get job ${id}`, () => this.stmt.selectJob.get({ id: Number(id) }) as JobRow | undefined, false);
    return row ? rowToJob(row) : null;
  }

  async list(filter: ListFilter): Promise<Job[]> {
    const shape = filter.status ? (filter.name ? 'statusAndName' : 'status') : filter.name ? 'name' : 'all';
    const cursor = filter.cursor !== undefined && isRowId(filter.cursor) ? Number(filter.cursor) : NO_CURSOR;
    const rows = this.run('list', 1, 'list jobs', () =>
      this.stmt.list[shape].all({
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.name ? { name: filter.name } : {}),
        cursor,
        limit: filter.limit,
        offset: filter.offset,
      }) as JobRow[],
    false);
    return rows.map(rowToJob);
  }

  async page(p: PageParams): Promise<{ jobs: Job[]; nextCursor: string | null }> {
    const params: Record<string, unknown> = { cursor: cursorOf(p.cursor), limit: p.limit, scan: p.scan };
    const sql = pageSql(p.filter, params);
    const rows = this.run('list', 1, 'list jobs', () => this.prepared(sql).all(params) as (JobRow & { page_hi: number | null })[]);
    const hi = rows.at(-1)?.page_hi ?? 1;
    const jobs = rows.filter((r) => r.id !== null).map(rowToJob).sort((a, b) => compareIds(b.id, a.id));
    if (jobs.length === p.limit) return { jobs, nextCursor: jobs.at(-1)!.id };
    const floor = hi - p.scan;
    return { jobs, nextCursor: p.filter.data !== undefined && floor > 1 ? String(floor) : null };
  }

  async countMatching(filter: JobFilter): Promise<number> {
    if (filter.data === undefined) {
      const counts = await this.counts(filter.name === undefined ? {} : { name: filter.name });
      return filter.status === undefined ? Object.values(counts).reduce((a, b) => a + b, 0) : counts[filter.status];
    }
    const params: Record<string, unknown> = {};
    const sql = countSql(filter, params);
    return this.run('counts', 1, 'count matching jobs', () => (this.prepared(sql).get(params) as { n: number }).n);
  }

  async bulk(p: BulkParams): Promise<BulkResult> {
    const params: Record<string, unknown> = { limit: p.limit };
    const sql = chunkSql(p.op, p.filter, params);
    return this.write('bulk', `${p.op} jobs in bulk`, p.now, (journal) => {
      let statements = 0;
      let hi = cursorOf(p.cursor);
      if (hi === null) {
        hi = (this.stmt.maxId.get() as { id: number }).id + 1;
        statements++;
      }
      const lo = p.filter.data !== undefined ? Math.max(1, hi - p.scan) : 1;
      const ids = this.prepared(sql).pluck(true).all({ ...params, hi, lo }) as number[];
      statements++;
      if (ids.length === 0) return { value: { changed: [], nextCursor: lo > 1 ? String(lo) : null }, statements };
      const parents = new Set<number>();
      const changed = bulkApply(this.stmt, journal, p.op, JSON.stringify(ids), p.now, parents).sort((a, b) => compareIds(b.id, a.id));
      statements += p.op === 'retry' ? this.flows.reopenParents(parents, p.now, journal) : this.flows.settleParents(parents, p.now, journal).statements;
      const nextCursor = ids.length === p.limit ? String(ids.at(-1)!) : lo > 1 ? String(lo) : null;
      return { value: { changed, nextCursor }, statements: statements + 1 };
    });
  }

  /** A statement of a filter's shape, prepared on first use (at most 200 shapes kept). */
  private prepared(sql: string): Database.Statement {
    let statement = this.shaped.get(sql);
    if (!statement) {
      if (this.shaped.size >= 200) this.shaped.delete(this.shaped.keys().next().value!);
      statement = this.db.prepare(sql);
      this.shaped.set(sql, statement);
    }
    return statement;
  }

  async counts(filter: { name?: string }): Promise<JobCounts> {
    const rows = this.run('counts', 1, 'count jobs', () =>
      (filter.name === undefined
        ? this.stmt.countByStatus.all()
        : this.stmt.countByStatusOfName.all({ name: filter.name })) as { status: number; n: number }[],
    false);
    const counts = emptyCounts();
    for (const row of rows) counts[JOB_STATUSES[row.status]!] = row.n;
    return counts;
  }

  async countsByName(): Promise<Record<string, JobCounts>> {
    const rows = this.run('counts', 1, 'count jobs by name', () =>
      this.stmt.countByNameAndStatus.all() as { name: string; status: number; n: number }[],
    false);
    const byName: Record<string, JobCounts> = {};
    for (const row of rows) (byName[row.name] ??= emptyCounts())[JOB_STATUSES[row.status]!] = row.n;
    return byName;
  }

  async names(): Promise<NameStats[]> {
    const rows = this.run('counts', 1, 'read name stats', () => this.stmt.nameStats.all() as { name: string; kind: number; key: number; n: number }[], false);
    const byName = new Map<string, NameStats>();
    for (const row of rows) {
      let entry = byName.get(row.name);
      if (!entry) byName.set(row.name, (entry = { name: row.name, counts: emptyCounts(), lastClaimAt: null }));
      if (row.kind === 0) entry.counts[JOB_STATUSES[row.key]!] = row.n;
      else entry.lastClaimAt = row.n;
    }
    return [...byName.values()];
  }

  async throughput(p: { sinceMinute: number; name?: string }): Promise<MinuteCount[]> {
    return this.run('counts', 1, 'read throughput', () =>
      this.stmt.throughput.all({ since: p.sinceMinute, name: p.name ?? null }) as MinuteCount[],
    false);
  }

  async transition(p: { id: string; op: TransitionOp; now: number }): Promise<Job | null> {
    const statement = { retry: this.stmt.retryJob, cancel: this.stmt.cancelJob, delete: this.stmt.deleteJob }[p.op];
    let row: JobRow | undefined;
    if (isRowId(p.id)) {
      try {
        row = this.write('transition', `${p.op} job ${p.id}`, p.now, (journal) => {
          const changed = statement.get({ id: Number(p.id), ...(p.op === 'delete' ? {} : { now: p.now }) }) as JobRow | undefined;
          if (changed) journalTransition(journal, p.op, changed);
          // A flow child that finished (cancelled, deleted) or came back (retried) moves its parent.
          let statements = 1;
          const parent = changed?.parent_id;
          if (typeof parent === 'number') {
            const parents = new Set([parent]);
            if (p.op === 'retry') statements += this.flows.reopenParents(parents, p.now, journal);
            else if (p.op === 'delete' || changed!.status === 'cancelled') statements += this.flows.settleParents(parents, p.now, journal).statements;
          }
          return { value: changed, statements };
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          const current = await this.get(p.id);
          const holders = current?.uniqueKey ? await this.holdersOf([current.uniqueKey]) : new Map<string, string>();
          throw uniqueKeyHeld(p.id, current, current?.uniqueKey ? holders.get(current.uniqueKey) : undefined);
        }
        throw error;
      }
    }
    if (row) return rowToJob(row);
    throw transitionRefused(p.id, p.op, await this.get(p.id));
  }

  async prune(p: { statuses: JobStatus[]; before: number; limit: number }): Promise<number> {
    if (p.statuses.length === 0 || p.limit <= 0) return 0;
    const params = { statuses: JSON.stringify(p.statuses), before: p.before, limit: p.limit };
    return this.write('prune', 'prune finished jobs', Date.now(), (journal) => {
      const gone = this.stmt.prune.all(params) as { name: string; status: JobStatus }[];
      for (const row of gone) journal.move(row.name, row.status, null);
      return { value: gone.length, statements: 1 };
    });
  }

  watch(listener: (events: FeedEvent[]) => void): () => void {
    return this.feed.watch(listener);
  }

  watchJobs(p: WatchJobsParams): () => void {
    return this.jobFeed.watch(p);
  }

  async getMany(ids: string[]): Promise<Job[]> {
    const wanted = ids.filter(isRowId).map(Number);
    if (wanted.length === 0) return [];
    const rows = this.run('get', 1, 'get jobs', () => this.stmt.selectJobs.all({ ids: JSON.stringify(wanted) }) as JobRow[], false);
    return rows.map(rowToJob);
  }

  async ping(): Promise<void> {
    this.run('ping', 1, 'answer a health check', () => this.stmt.ping.get(), false);
  }

  stats(): StoreStats {
    return this.counter.snapshot();
  }

  async close(): Promise<void> {
    this.jobFeed.stop();
    this.feed.stop();
    if (this.db.open) this.db.close();
  }

  /**
   * Writes outcomes inside the caller's transaction: completions through COMPLETE, the rest through FINISH;
   * one statement each, if any. Notes each applied outcome in the journal. `cancelled`: retries and releases
   * FINISH turned into cancels (a cancel was requested meanwhile).
   */
  private runFinish(workerId: string, now: number, outcomes: Outcome[], journal: Journal): FinishResult & { statements: number; parentsReady: number } {
    const completed: [number, string, string | null][] = [];
    const others: object[] = [];
    for (const o of outcomes) {
      if (o.status === 'completed') completed.push([Number(o.id), o.resultJson, o.progressJson ?? null]);
      else others.push({ ...o, id: Number(o.id), progress: o.progressJson ?? null });
    }
    const finished: string[] = [];
    const cancelled: string[] = [];
    // Parents of flow children this batch finished: moved on by one more statement, only when there are any.
    const parents = new Set<number>();
    if (completed.length > 0) {
      for (const [id, name, parent] of this.stmt.complete.all({ outcomes: JSON.stringify(completed), workerId, now }) as [number, string, number | null][]) {
        if (parent !== null) parents.add(parent);
        finished.push(String(id));
        journal.note('completed', id);
        journal.move(name, 'running', 'completed');
        journal.ended(name, 'completed');
      }
    }
    if (others.length > 0) {
      const kinds = new Map(outcomes.map((o) => [o.id, o.status]));
      for (const [id, name, status, parent] of this.stmt.finish.all({ outcomes: JSON.stringify(others), workerId, now }) as [number, string, JobStatus, number | null][]) {
        if (parent !== null && status !== 'pending') parents.add(parent);
        finished.push(String(id));
        if (status === 'cancelled' && kinds.get(String(id)) !== 'cancelled') cancelled.push(String(id));
        journal.note(status === 'pending' ? 'retrying' : (status as 'failed' | 'cancelled'), id);
        journal.move(name, 'running', status);
        if (status === 'failed') journal.ended(name, 'failed');
      }
    }
    const flows = this.flows.settleParents(parents, now, journal);
    return {
      finished, cancelled, parentsReady: flows.ready,
      statements: (completed.length > 0 ? 1 : 0) + (others.length > 0 ? 1 : 0) + flows.statements,
    };
  }

  /**
   * Counts one round trip and wraps driver errors with what was being done. Writes go through the full-disk
   * recovery: after SQLITE_FULL each write is preceded and followed by a WAL checkpoint until the disk has room.
   */
  private run<T>(method: string, statements: number, what: string, fn: () => T, writes = true): T {
    this.counter.record(method, statements);
    try {
      if (writes) this.diskFull.beforeWrite();
      const result = fn();
      if (writes) this.diskFull.afterWrite();
      return result;
    } catch (cause) {
      if (isUniqueViolation(cause)) throw cause;
      if (this.diskFull.failed(cause)) {
        throw new StoreError(
          `SQLite store could not ${what}: the disk holding ${this.path} is full (${(cause as Error).message}); nothing was written. ` +
            'Free some space: Spool checkpoints its WAL into the database and goes on by itself',
          { cause, retryable: true },
        );
      }
      throw new StoreError(`SQLite store could not ${what}: ${(cause as Error).message}`, { cause, retryable: !isRefusal(cause) });
    }
  }
}

/**
 * Errors where SQLite refused what was sent (a constraint, a value too big or of the wrong type, a statement
 * it rejects): sending the same again fails again. Busy, locked, full, I/O and the like may pass later.
 */
function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH|RANGE|ERROR)(_|$)/.test(code);
}

function prepareAll(db: Database.Database) {
  return {
    insertJobs: db.prepare(SQL.INSERT_JOBS),
    idsByUniqueKey: db.prepare(SQL.SELECT_IDS_BY_UNIQUE_KEY),
    claim: db.prepare(SQL.CLAIM_JOBS).raw(true),
    tick: db.prepare(SQL.TICK),
    // Raw rows ([id, name, …]): a plain array per row costs less than an object in a drain's hot path.
    complete: db.prepare(SQL.COMPLETE).raw(true),
    finish: db.prepare(SQL.FINISH).raw(true),
    setProgress: db.prepare(SQL.SET_PROGRESS),
    selectJob: db.prepare(SQL.SELECT_JOB),
    ping: db.prepare('SELECT 1'),
    selectJobs: db.prepare(SQL.SELECT_JOBS),
    insertChange: db.prepare(SQL.INSERT_CHANGE),
    pruneChanges: db.prepare(SQL.PRUNE_CHANGES),
    pruneMinutes: db.prepare(SQL.PRUNE_MINUTES),
    lastChange: db.prepare(SQL.LAST_CHANGE),
    readChanges: db.prepare(SQL.READ_CHANGES),
    list: {
      all: db.prepare(SQL.LIST_JOBS.all),
      status: db.prepare(SQL.LIST_JOBS.status),
      name: db.prepare(SQL.LIST_JOBS.name),
      statusAndName: db.prepare(SQL.LIST_JOBS.statusAndName),
    },
    countByStatus: db.prepare(SQL.COUNT_BY_STATUS),
    countByStatusOfName: db.prepare(SQL.COUNT_BY_STATUS_OF_NAME),
    countByNameAndStatus: db.prepare(SQL.COUNT_BY_NAME_AND_STATUS),
    nameStats: db.prepare(SQL.NAME_STATS),
    throughput: db.prepare(SQL.THROUGHPUT),
    retryJob: db.prepare(SQL.RETRY_JOB),
    cancelJob: db.prepare(SQL.CANCEL_JOB),
    deleteJob: db.prepare(SQL.DELETE_JOB),
    prune: db.prepare(SQL.PRUNE_JOBS),
    bulkRetry: db.prepare(SQL.BULK_RETRY),
    bulkCancel: db.prepare(SQL.BULK_CANCEL),
    bulkDelete: db.prepare(SQL.BULK_DELETE),
    maxId: db.prepare(SQL.MAX_ID),
  };
}

/** Applies one chunk of a bulk action to `ids` (JSON), noting what changed. */
function bulkApply(stmt: ReturnType<typeof prepareAll>, journal: Journal, op: BulkParams['op'], ids: string, now: number, parents: Set<number>): BulkResult['changed'] {
  const changed: BulkResult['changed'] = [];
  if (op === 'retry') {
    for (const row of stmt.bulkRetry.all({ ids, now }) as { id: number; name: string; prev_status: number; parent_id: number | null }[]) {
      if (row.parent_id !== null) parents.add(row.parent_id);
      const from = JOB_STATUSES[row.prev_status]!;
      journal.note('retrying', row.id);
      journal.move(row.name, from, 'pending');
      changed.push({ id: String(row.id), name: row.name, from, to: 'pending' });
    }
  } else if (op === 'cancel') {
    for (const row of stmt.bulkCancel.all({ ids, now }) as { id: number; name: string; status: JobStatus; parent_id: number | null }[]) {
      if (row.status === 'cancelled') {
        if (row.parent_id !== null) parents.add(row.parent_id);
        journal.note('cancelled', row.id);
        journal.move(row.name, 'pending', 'cancelled');
      }
      changed.push({ id: String(row.id), name: row.name, from: row.status === 'cancelled' ? 'pending' : 'running', to: row.status });
    }
  } else {
    for (const row of stmt.bulkDelete.all({ ids }) as { id: number; name: string; status: JobStatus; parent_id: number | null }[]) {
      if (row.parent_id !== null) parents.add(row.parent_id);
      journal.note('deleted', row.id, row.name);
      journal.move(row.name, row.status, null);
      changed.push({ id: String(row.id), name: row.name, from: row.status, to: null });
    }
  }
  return changed;
}

/** A cursor as the id to start below, or null for "from the newest". */
function cursorOf(cursor: string | undefined): number | null {
  return cursor !== undefined && isRowId(cursor) ? Number(cursor) : null;
}

/** Notes what a retry, cancel or delete of one job changed. */
function journalTransition(journal: Journal, op: TransitionOp, row: JobRow): void {
  if (op === 'delete') {
    journal.note('deleted', row.id, row.name);
    journal.move(row.name, row.status as JobStatus, null);
  } else if (op === 'retry') {
    journal.note('retrying', row.id);
    journal.move(row.name, JOB_STATUSES[row.prev_status!]!, 'pending');
  } else if (row.status === 'cancelled') {
    // A running job only gets a request here; its worker writes the cancellation.
    journal.note('cancelled', row.id);
    journal.move(row.name, 'pending', 'cancelled');
  }
}

function toInsertable(job: NewJob) {
  return {
    name: job.name,
    data: job.dataJson,
    priority: job.priority,
    runAt: job.runAt,
    maxAttempts: job.maxAttempts,
    backoff: job.backoff === null ? null : JSON.stringify(job.backoff),
    timeout: job.timeout,
    uniqueKey: job.uniqueKey,
    claimedBy: job.claimedBy?.workerId ?? null,
    leaseUntil: job.claimedBy?.leaseUntil ?? null,
    traceContext: job.traceContext ?? null,
    concurrencyKey: job.concurrencyKey ?? null,
  };
}



function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

