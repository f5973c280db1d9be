import { createHash } from 'node:crypto';
import pg from 'pg';
import { StoreError, ValidationError } from '../../errors.ts';
import { emptyCounts, JOB_STATUSES, type Job, type JobCounts, type JobStatus, type TransactionClient } from '../../job.ts';
import { defaultLogger, type Logger } from '../../logger.ts';
import { claimOrder, compareIds, isRowId, orderEnqueuedIds } from '../job-ids.ts';
import { StatementCounter } from '../statement-counter.ts';
import type {
  BulkParams, BulkResult, ClaimParams, ClaimResult, FeedEvent, FinishResult, JobChangeType, JobFilter, ListFilter, MinuteCount, NameStats,
  NewJob, Outcome, PageParams, ScheduleFire, ScheduleRow, Store, StoreStats, TickParams, TickResult, TransitionOp, WatchJobsParams,
} from '../store.ts';
import { transitionRefused, uniqueKeyHeld } from '../transition-error.ts';
import { bulkSql, countSql, pageSql, Params, shapeKey, type Tables } from './filter-statements.ts';
import type { NameControl } from '../../limits/limits.ts';
import { buildControlStatements, type ControlStatements } from './control-statements.ts';
import { NotifyJobFeed } from './job-feed.ts';
import { type ControlRow, controlFromRow } from '../../limits/control-row.ts';
import { controlValues, type Exec, planLimited } from './limited-claim.ts';
import { NotifyFeed } from './notify-feed.ts';
import { redactUrl } from './redact-url.ts';
import { type ClaimedRow, claimedRowToJob, type JobRow, rowToJob } from './rows.ts';
import { buildScheduleStatements, type ScheduleRecord, toScheduleRow } from './schedule-statements.ts';
import { migrate, SCHEMA_NAME } from './schema.ts';
import { buildStatements, type ListShape, type Statement, type Statements } from './statements.ts';
import { splitDue } from '../schedule-due.ts';

/** Options of the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/db (also postgresql://). */
  url: string;
  /** Schema holding Spool's tables; default 'spool'. Lower-case letters, digits and _. */
  schema?: string;
  /**
   * Pool size; default 4. A worker keeps at most three statements in flight (claim, finish and tick) whatever
   * its concurrency, so 2 serves a worker (the third waits for a connection; test/postgres.pool.test.ts asserts
   * at most one waits); more helps processes that also add or list a lot.
   * Watching the change feed (every worker does) holds one more, dedicated connection outside the pool.
   */
  poolMax?: number;
  /** Where lost connections and pool errors are reported; default stderr. */
  logger?: Logger;
}

/** Anything that runs a named statement: the pool, or a caller's client inside their transaction. */
type Queryable = Pick<TransactionClient, 'query'>;

const DEFAULT_POOL_MAX = 4;
const NO_CURSOR = '9223372036854775807';

/**
 * The distributed store: PostgreSQL through node-postgres, with a bounded pool. Every method is one named
 * (prepared) statement, one round trip, whatever the number of jobs it carries; claims use FOR UPDATE SKIP
 * LOCKED over a partial index of pending jobs, so any number of workers on any number of machines claim
 * without waiting on each other. Every job-changing statement sends at most one NOTIFY (the change feed).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly parallel = true;
  /** Migrations this open applied (0 when the schema was already current): tests count them. */
  migrationsApplied = 0;
  private readonly pool: pg.Pool;
  private readonly counter = new StatementCounter();
  private readonly sql: Statements;
  private readonly controlSql: ControlStatements;
  private readonly sched: ReturnType<typeof buildScheduleStatements>;
  private readonly feed: NotifyFeed;
  private readonly jobFeed: NotifyJobFeed;
  private readonly logger: Logger;
  private readonly channel: string;
  private minutesPrunedAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  private constructor(readonly schema: string, options: PostgresStoreOptions) {
    this.logger = options.logger ?? defaultLogger;
    const channel = channelName(schema);
    this.channel = channel;
    const applicationName = `spool/${schema}`.slice(0, 63);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? DEFAULT_POOL_MAX,
      application_name: applicationName,
      // TCP keepalives find a connection whose peer vanished (failover, a dropped NAT entry) instead of waiting forever.
      keepAlive: true,
      // Spool's statements all want ordered index scans that stop at their LIMIT. On a table not yet analyzed
      // (a fresh queue, autovacuum behind or off) the planner guessed a handful of pending rows and picked a
      // bitmap scan that read and sorted all of them on every claim: 6.1 ms against 0.23 ms for 20,000
      // pending jobs, and O(pending) per claim. Turning bitmap scans off in Spool's own sessions keeps the
      // claim plan right whatever the statistics say (.tmp/pgdue.ts).
      options: '-c enable_bitmapscan=off',
    });
    // An idle pooled connection that dies (server restart, pg_terminate_backend) is reported here and
    // dropped from the pool; without a listener node would crash the process on the 'error' event.
    // Debug, not warn: an idle connection dies with the server or the network, and whatever then fails (a
    // worker's claim, a caller's statement) reports the fault once; one line per pooled connection was noise.
    this.pool.on('error', (error) => {
      this.logger.debug(`PostgreSQL pool connection lost (it is replaced on next use): ${error.message}`, { schema });
    });
    this.sql = buildStatements(schema, channel);
    this.controlSql = buildControlStatements(schema, channel);
    this.sched = buildScheduleStatements(schema);
    this.feed = new NotifyFeed({
      client: { connectionString: options.url, application_name: `${applicationName}/listen`.slice(0, 63), keepAlive: true },
      channel,
      logger: this.logger,
      counter: this.counter,
    });
    this.jobFeed = new NotifyJobFeed((listener) => this.feed.watch(listener), (ids) => this.getMany(ids, 'watch'), this.logger);
  }

  /** Connects and brings the schema up to date (safe from many processes at once). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? 'spool';
    if (!SCHEMA_NAME.test(schema)) {
      throw new ValidationError([`schema must be a lower-case SQL identifier (letters, digits, _; at most 63), got ${JSON.stringify(schema)}`]);
    }
    const store = new PostgresStore(schema, options);
    let client: pg.PoolClient | undefined;
    try {
      client = await store.pool.connect();
      const { applied, statements } = await migrate(client, schema);
      store.counter.record('migrate', statements);
      store.migrationsApplied = applied;
    } catch (cause) {
      await store.pool.end().catch(() => {});
      throw new StoreError(`could not open PostgreSQL database ${redactUrl(options.url)} (schema ${schema}): ${(cause as Error).message}`, { cause });
    } finally {
      client?.release();
    }
    return store;
  }

  async enqueue(p: { jobs: NewJob[]; now: number; client?: TransactionClient }): Promise<string[]> {
    if (p.jobs.length === 0) return [];
    const via = p.client ?? this.pool;
    const payload = enqueuePayload(p.jobs);
    const rows = await this.run<{ id: string; unique_key: string | null; inserted: boolean }>(
      'enqueue', 'insert jobs', this.sql.enqueue, [payload, p.now], via,
    );
    const held = new Map<string, string>();
    for (const row of rows) if (!row.inserted && row.unique_key !== null) held.set(row.unique_key, row.id);
    return orderEnqueuedIds(
      p.jobs,
      rows.filter((r) => r.inserted).map((r) => ({ id: r.id, uniqueKey: r.unique_key })),
      async (keys) => {
        const missing = keys.filter((k) => !held.has(k));
        if (missing.length > 0) {
          // A holder that committed while our insert waited on its key: invisible to our snapshot.
          const found = await this.run<{ id: string; unique_key: string }>('enqueue', 'look up unique keys', this.sql.idsByUniqueKey, [missing], via);
          for (const row of found) held.set(row.unique_key, row.id);
        }
        return held;
      },
    );
  }

  async enqueueFlow(p: { parent: NewJob; children: NewJob[]; now: number }): Promise<{ id: string; childIds: string[] }> {
    const parent = JSON.stringify([{
      name: p.parent.name, data: JSON.parse(p.parent.dataJson) as unknown, priority: p.parent.priority, max_attempts: p.parent.maxAttempts,
      backoff: p.parent.backoff, timeout_ms: p.parent.timeout, trace_context: p.parent.traceContext ? (JSON.parse(p.parent.traceContext) as unknown) : null,
    }]);
    const children = flowChildrenPayload(p.children);
    const rows = await this.run<{ id: string; parent: boolean }>('enqueue', 'insert a flow', this.sql.enqueueFlow, [parent, children, p.now]);
    const id = rows.find((r) => r.parent)!.id;
    // Ids come from one sequence in the INSERT's order (input order), so ascending ids are input order.
    const childIds = rows.filter((r) => !r.parent).map((r) => r.id).sort(compareIds);
    return { id, childIds };
  }

  async children(p: { parentId: string; ignored: boolean }): Promise<Job[]> {
    if (!isRowId(p.parentId)) return [];
    const rows = await this.run<JobRow>('children', `get the children of job ${p.parentId}`, this.sql.selectChildren, [p.parentId, p.ignored]);
    return rows.map(rowToJob);
  }

  /** One more statement after a retry of flow children: their parents' counts made exact (flowRecount). */
  private async recountParents(parents: string[], now: number): Promise<void> {
    await this.run('transition', 'recount the children of flow parents', this.sql.flowRecount, [parents, now]);
  }

  async claim(p: ClaimParams): Promise<ClaimResult> {
    if (p.limited === undefined || p.limited.length === 0) return this.plainClaim(p);
    const limited = p.limit > 0 ? await this.claimLimited(p, p.limited) : { jobs: [] as Job[], retryAt: null };
    const outcomes = p.finish ?? [];
    const rest = p.limit - limited.jobs.length;
    const plain = p.names.length > 0 && (rest > 0 || outcomes.length > 0)
      ? await this.plainClaim({ ...p, limit: rest })
      : await this.plainClaim({ ...p, names: [], limit: 0 });
    return {
      ...plain,
      jobs: limited.jobs.concat(plain.jobs).sort(claimOrder),
      ...(limited.retryAt !== null ? { retryAt: limited.retryAt } : {}),
    };
  }

  /**
   * The limit-aware claim (limited-claim.ts): one short transaction on one connection, BEGIN, lock the names'
   * control rows, read, claim the chosen jobs, write the rate state, COMMIT: 5-6 round trips per batch.
   */
  private async claimLimited(p: ClaimParams, names: string[]): Promise<{ jobs: Job[]; retryAt: number | null }> {
    const leaseUntil = p.now + p.leaseMs;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (cause) {
      throw new StoreError(`PostgreSQL store could not claim limited jobs: ${(cause as Error).message}`, { cause, retryable: true });
    }
    const exec: Exec = (statement, values) => this.run('claim', 'claim limited jobs', statement, values, client);
    const plain = (text: string) => {
      this.counter.record('claim');
      return client.query(text);
    };
    try {
      await plain('BEGIN');
      const plan = await planLimited(exec, this.controlSql, names, p.limit, p.now);
      let rows: ClaimedRow[] = [];
      if (plan.active.length > 0) {
        rows = await exec<ClaimedRow & { fin: boolean }>(this.sql.claimChosen, [
          '[]', p.workerId, p.now, leaseUntil, plan.active, p.limit, [], [], [], plan.ids,
        ]);
      }
      await plan.writeBack?.();
      await plain('COMMIT');
      return { jobs: rows.map((row) => claimedRowToJob(row, p.workerId, p.now, leaseUntil)), retryAt: plan.retryAt };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      if (error instanceof StoreError) throw error;
      throw new StoreError(`PostgreSQL store could not claim limited jobs: ${(error as Error).message}`, { cause: error, retryable: true });
    } finally {
      client.release();
    }
  }

  async controls(): Promise<NameControl[]> {
    const rows = await this.run<ControlRow>('controls', 'read flow control', this.controlSql.controls, []);
    return rows.map(controlFromRow);
  }

  async setControl(p: { name: string; paused?: boolean; limits?: Omit<NameControl, 'name' | 'paused'>; now: number }): Promise<NameControl> {
    const rows = await this.run<ControlRow>('controls', `write the flow control of ${p.name}`, this.controlSql.upsert, controlValues(p));
    return controlFromRow(rows[0]!);
  }

  private async plainClaim(p: ClaimParams): Promise<ClaimResult> {
    const outcomes = p.finish ?? [];
    if (p.limit <= 0 && outcomes.length === 0) return { jobs: [], finished: [], cancelled: [] };
    const leaseUntil = p.now + p.leaseMs;
    const { others, completed } = outcomeParams(outcomes);
    const rows = await this.run<ClaimedRow & { fin: boolean }>('claim', 'claim jobs', this.sql.claim, [
      others, p.workerId, p.now, leaseUntil, p.names, Math.max(0, p.limit), ...completed,
    ]);
    const jobs: Job[] = [];
    const finishedRows: { id: string; status: string }[] = [];
    for (const row of rows) {
      // A fin row carries the job's new status in its name column (see statements.ts).
      if (row.fin) finishedRows.push({ id: row.id, status: row.name });
      else jobs.push(claimedRowToJob(row, p.workerId, p.now, leaseUntil));
    }
    return { jobs: jobs.sort(claimOrder), ...finishResult(outcomes, finishedRows) };
  }

  async tick(p: TickParams): Promise<TickResult> {
    if (p.running.length === 0) return { cancelled: [], lost: [] };
    const progress = new Map(p.progress.map((e) => [e.id, e.json]));
    const entries = JSON.stringify(p.running.filter(isRowId).map((id) => ({ id, progress: progress.get(id) ?? null })));
    const rows = await this.run<{ id: string; cancel_requested: boolean }>('tick', 'run the worker tick', this.sql.tick, [
      entries, p.workerId, p.now + p.leaseMs,
    ]);
    const held = new Set(rows.map((r) => r.id));
    return {
      cancelled: rows.filter((r) => r.cancel_requested).map((r) => r.id),
      lost: p.running.filter((id) => !held.has(id)),
    };
  }

  async finish(p: { workerId: string; now: number; outcomes: Outcome[] }): Promise<FinishResult> {
    if (p.outcomes.length === 0) return { finished: [], cancelled: [] };
    this.pruneOldMinutes(p.now);
    const { others, completed } = outcomeParams(p.outcomes);
    const rows = await this.run<{ id: string; status: string }>('finish', 'finish jobs', this.sql.finish, [others, p.workerId, p.now, ...completed]);
    return finishResult(p.outcomes, rows);
  }

  async setProgress(p: { updates: { id: string; json: string }[] }): Promise<string[]> {
    const updates = p.updates.filter((u) => isRowId(u.id));
    if (updates.length === 0) return [];
    const entries = JSON.stringify(updates.map((u) => ({ id: u.id, progress: u.json })));
    const rows = await this.run<{ id: string }>('setProgress', 'write progress', this.sql.setProgress, [entries]);
    return rows.map((r) => r.id);
  }

  async get(id: string): Promise<Job | null> {
    if (!isRowId(id)) return null;
    const rows = await this.run<JobRow>('get', `get job ${id}`, this.sql.selectJob, [id]);
    return rows[0] ? rowToJob(rows[0]) : null;
  }

  async list(filter: ListFilter): Promise<Job[]> {
    const cursor = filter.cursor !== undefined && isRowId(filter.cursor) ? filter.cursor : NO_CURSOR;
    const values: unknown[] = [cursor, filter.limit, filter.offset];
    let shape: ListShape;
    if (filter.status === undefined) shape = filter.name === undefined ? 'all' : 'name';
    else if (filter.status === 'pending' || filter.status === 'running') shape = filter.status;
    else {
      shape = 'done';
      values.push(filter.status);
    }
    if (filter.name !== undefined) {
      if (shape !== 'all' && shape !== 'name') shape = `${shape}Name`;
      values.push(filter.name);
    }
    const rows = await this.run<JobRow>('list', 'list jobs', this.sql.list[shape], values);
    return rows.map(rowToJob);
  }

  async page(p: PageParams): Promise<{ jobs: Job[]; nextCursor: string | null }> {
    const params = new Params();
    const text = pageSql(p.filter, this.tables(), params, p.cursor !== undefined && isRowId(p.cursor) ? p.cursor : null, p.limit, p.scan);
    const rows = await this.run<JobRow & { page_hi: string | null }>('list', 'list jobs', { name: this.shaped(shapeKey('page', p.filter)), text }, params.values);
    const hi = Number(rows.at(-1)?.page_hi ?? 1);
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
    const params = new Params();
    const text = countSql(filter, this.tables(), params);
    const rows = await this.run<{ n: string }>('counts', 'count matching jobs', { name: this.shaped(shapeKey('count', filter)), text }, params.values);
    return Number(rows[0]!.n);
  }

  async bulk(p: BulkParams): Promise<BulkResult> {
    const params = new Params();
    const cursor = p.cursor !== undefined && isRowId(p.cursor) ? p.cursor : null;
    const text = bulkSql(p.op, p.filter, this.tables(), this.channel, params, { cursor, limit: p.limit, scan: p.scan, now: p.now });
    type Row = { kind: 'chunk' | 'row' | 'parent'; id: string | null; name: string | null; from_status: JobStatus | null; to_status: JobStatus | null; n: number | null; min_id: string | null; lo: string | null };
    const rows = await this.run<Row>('bulk', `${p.op} jobs in bulk`, { name: this.shaped(shapeKey(`bulk-${p.op}`, p.filter)), text }, params.values);
    const chunk = rows.find((r) => r.kind === 'chunk')!;
    const changed = rows
      .filter((r) => r.kind === 'row')
      .map((r) => ({ id: r.id!, name: r.name!, from: r.from_status!, to: r.to_status }))
      .sort((a, b) => compareIds(b.id, a.id));
    // Parents of retried children: recounted once the retry committed (flow-statements.ts flowRecount).
    const parents = rows.filter((r) => r.kind === 'parent').map((r) => r.id!);
    if (parents.length > 0) await this.recountParents(parents, p.now);
    const lo = Number(chunk.lo);
    const nextCursor = chunk.n === p.limit ? chunk.min_id : lo > 1 ? String(lo) : null;
    return { changed, nextCursor };
  }

  /**
   * Every 10 minutes (checked by the finishes, which write the per-minute counters) deletes per-minute
   * counters older than 8 days; one statement, not awaited by the finish.
   */
  private pruneOldMinutes(now: number): void {
    if (this.minutesPrunedAt === Number.NEGATIVE_INFINITY) this.minutesPrunedAt = now;
    if (now - this.minutesPrunedAt < 10 * 60_000) return;
    this.minutesPrunedAt = now;
    this.run('prune', 'prune old throughput minutes', this.sql.pruneMinutes, [Math.floor(now / 60_000) - 8 * 24 * 60]).catch((error: Error) =>
      this.logger.warn(`could not prune old throughput minutes: ${error.message}`),
    );
  }

  private tables(): Tables {
    const S = `"${this.schema}"`;
    return { L: `${S}.jobs_live`, D: `${S}.jobs_done`, V: `${S}.jobs`, C: `${S}.counters` };
  }

  private shaped(key: string): string {
    return `spool:${this.schema}:${key}`;
  }

  async counts(filter: { name?: string }): Promise<JobCounts> {
    const rows = filter.name === undefined
      ? await this.run<{ status: number; n: string }>('counts', 'count jobs', this.sql.countByStatus, [])
      : await this.run<{ status: number; n: string }>('counts', 'count jobs', this.sql.countByStatusOfName, [filter.name]);
    const counts = emptyCounts();
    for (const row of rows) counts[JOB_STATUSES[row.status]!] = Number(row.n);
    return counts;
  }

  async prune(p: { statuses: JobStatus[]; before: number; limit: number }): Promise<number> {
    if (p.statuses.length === 0 || p.limit <= 0) return 0;
    const rows = await this.run<{ n: number }>('prune', 'prune finished jobs', this.sql.prune, [p.statuses, p.before, p.limit]);
    return rows[0]?.n ?? 0;
  }

  async scheduleUpsert(p: { row: ScheduleRow; now: number }): Promise<ScheduleRow> {
    const r = p.row;
    const rows = await this.run<ScheduleRecord>('schedules', 'save a schedule', this.sched.upsert, [
      r.key, r.cron, r.tz, r.every, r.name, r.dataJson, r.optionsJson, r.missed, p.now, r.nextRunAt,
    ]);
    return toScheduleRow(rows[0]!);
  }

  async schedules(p: { key?: string }): Promise<ScheduleRow[]> {
    const rows = await this.run<ScheduleRecord>('schedules', 'read schedules', this.sched.select, [p.key ?? null]);
    return rows.map(toScheduleRow);
  }

  async schedulePause(p: { key: string; paused: boolean; now: number; nextRunAt: number | null }): Promise<ScheduleRow | null> {
    const rows = await this.run<ScheduleRecord>('schedules', 'pause or resume a schedule', this.sched.pause, [p.key, p.paused, p.now, p.nextRunAt]);
    return rows[0] ? toScheduleRow(rows[0]) : null;
  }

  async scheduleDelete(p: { key: string }): Promise<boolean> {
    const rows = await this.run('schedules', 'delete a schedule', this.sched.delete, [p.key]);
    return rows.length > 0;
  }

  async schedulesDue(p: { names: string[]; now: number; limit: number }): Promise<{ due: ScheduleRow[]; nextAt: number | null }> {
    const rows = (await this.run<ScheduleRecord>('schedulesDue', 'read due schedules', this.sched.due, [p.names, p.now, p.limit])).map(toScheduleRow);
    return splitDue(rows, p.now);
  }

  /** One transaction on one connection: the compare-and-set, then the insert of the winners' jobs (enqueue's statement). */
  async schedulesFire(p: { fires: ScheduleFire[]; now: number }): Promise<{ fired: string[]; jobIds: string[] }> {
    if (p.fires.length === 0) return { fired: [], jobIds: [] };
    const fires = JSON.stringify(p.fires.map((f) => ({ key: f.key, revision: f.revision, from: f.firedThrough, to: f.newFiredThrough, last: f.lastRunAt, next: f.nextRunAt })));
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (cause) {
      throw new StoreError(`PostgreSQL store could not fire schedules: ${(cause as Error).message}`, { cause, retryable: true });
    }
    try {
      this.counter.record('schedulesFire');
      await client.query('BEGIN');
      const won = new Set((await this.run<{ key: string }>('schedulesFire', 'fire schedules', this.sched.fire, [fires], client)).map((r) => r.key));
      const jobs = p.fires.filter((f) => won.has(f.key)).flatMap((f) => f.jobs);
      const jobIds = jobs.length > 0 ? await this.enqueue({ jobs, now: p.now, client }) : [];
      this.counter.record('schedulesFire');
      await client.query('COMMIT');
      return { fired: [...won], jobIds };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async nextDueAt(p: { names: string[]; now: number }): Promise<{ job: number | null; schedule: number | null }> {
    type Row = { at: number | null; schedule_at: string | null };
    const rows = await this.run<Row>('nextDueAt', 'read the next due time', this.sched.nextDue, [p.names, p.now]);
    const at = rows[0]?.at;
    const schedule = rows[0]?.schedule_at;
    return { job: at === null || at === undefined ? null : Math.round(Number(at)), schedule: schedule === null || schedule === undefined ? null : Number(schedule) };
  }

  async pruneKeep(p: { status: JobStatus; keep: number; limit: number }): Promise<number> {
    if (p.limit <= 0) return 0;
    const rows = await this.run<{ n: number }>('prune', 'prune finished jobs beyond a count', this.sched.pruneKeep, [p.status, p.keep, p.limit]);
    return rows[0]?.n ?? 0;
  }

  async countsByName(): Promise<Record<string, JobCounts>> {
    const rows = await this.run<{ name: string; status: number; n: string }>('counts', 'count jobs by name', this.sql.countByNameAndStatus, []);
    const byName: Record<string, JobCounts> = {};
    for (const row of rows) (byName[row.name] ??= emptyCounts())[JOB_STATUSES[row.status]!] = Number(row.n);
    return byName;
  }

  async names(): Promise<NameStats[]> {
    const rows = await this.run<{ name: string; kind: number; key: number; n: string }>('counts', 'read name stats', this.sql.nameStats, []);
    const byName = new Map<string, NameStats>();
    for (const row of rows) {
      let entry = byName.get(row.name);
      if (!entry) byName.set(row.name, (entry = { name: row.name, counts: emptyCounts(), lastClaimAt: null }));
      if (row.kind === 0) entry.counts[JOB_STATUSES[row.key]!] = Number(row.n);
      else entry.lastClaimAt = Number(row.n);
    }
    return [...byName.values()];
  }

  async throughput(p: { sinceMinute: number; name?: string }): Promise<MinuteCount[]> {
    const rows = await this.run<{ minute: string; completed: number; failed: number }>('counts', 'read throughput', this.sql.throughput, [
      p.sinceMinute, p.name ?? null,
    ]);
    return rows.map((r) => ({ minute: Number(r.minute), completed: r.completed, failed: r.failed }));
  }

  async transition(p: { id: string; op: TransitionOp; now: number }): Promise<Job | null> {
    let row: JobRow | undefined;
    if (isRowId(p.id)) {
      const statement = { retry: this.sql.retryJob, cancel: this.sql.cancelJob, delete: this.sql.deleteJob }[p.op];
      try {
        [row] = await this.run<JobRow>('transition', `${p.op} job ${p.id}`, statement, [p.id, p.now]);
      } catch (error) {
        if (isUniqueViolation(error)) {
          // Failure path only: read the job and the holder of its key, so the message names both.
          const current = await this.get(p.id);
          const key = current?.uniqueKey ?? null;
          const found = key === null ? [] : await this.run<{ id: string; unique_key: string }>('transition', 'look up unique keys', this.sql.idsByUniqueKey, [[key]]);
          throw uniqueKeyHeld(p.id, current, found[0]?.id);
        }
        throw error;
      }
    }
    if (row) {
      if (p.op === 'retry' && row.parent_id) await this.recountParents([row.parent_id], p.now);
      return rowToJob(row);
    }
    const current = await this.get(p.id);
    if (current !== null && p.op === 'delete') {
      // A finish moved the job from the live to the finished table while the delete ran (its snapshot saw
      // neither the live row, gone, nor the finished one, new): delete it where it is now.
      [row] = await this.run<JobRow>('transition', `delete job ${p.id}`, this.sql.deleteJob, [p.id, p.now]);
      if (row) return rowToJob(row);
    }
    throw transitionRefused(p.id, p.op, current);
  }


  watch(listener: (events: FeedEvent[]) => void, types?: readonly JobChangeType[]): () => void {
    return this.feed.watch(listener, types);
  }

  watchJobs(p: WatchJobsParams): () => void {
    return this.jobFeed.watch(p);
  }

  async getMany(ids: string[], method = 'get'): Promise<Job[]> {
    const wanted = ids.filter(isRowId);
    if (wanted.length === 0) return [];
    const rows = await this.run<JobRow>(method, 'get jobs', this.sql.selectJobs, [wanted]);
    return rows.map(rowToJob);
  }

  /** Resolves once the change feed LISTENs; watchers that must not miss the next change await it. */
  listening(): Promise<void> {
    return this.feed.listening();
  }

  async ping(): Promise<void> {
    await this.run('ping', 'answer a health check', { name: `spool:${this.schema}:ping`, text: 'SELECT 1' }, []);
  }

  stats(): StoreStats {
    return this.counter.snapshot();
  }

  /** Pool activity, for tests and metrics: connections open, idle, and callers waiting for one. */
  poolStats(): { total: number; idle: number; waiting: number; max: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount, max: this.pool.options.max };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.stop();
    await this.pool.end();
  }

  /** Sends one named statement (one round trip), counts it, and wraps driver errors with what was being done. */
  private async run<R>(method: string, what: string, statement: Statement, values: unknown[], via: Queryable = this.pool): Promise<R[]> {
    this.counter.record(method);
    try {
      const result = await via.query({ name: statement.name, text: statement.text, values });
      return result.rows as R[];
    } catch (cause) {
      if (isUniqueViolation(cause)) throw cause;
      throw new StoreError(`PostgreSQL store could not ${what}: ${(cause as Error).message}`, { cause, retryable: !isRefusal(cause) });
    }
  }
}

/** The ids applied, and those whose retry or release the statement turned into a cancel (one was requested). */
function finishResult(outcomes: Outcome[], rows: { id: string; status: string }[]): FinishResult {
  const sent = new Map(outcomes.map((o) => [o.id, o.status]));
  return {
    finished: rows.map((r) => r.id),
    cancelled: rows.filter((r) => r.status === 'cancelled' && sent.get(r.id) !== 'cancelled').map((r) => r.id),
  };
}

/**
 * The jobs of an enqueue as one JSON array, written by hand: each job's data is already JSON text (validated
 * at the edge), so it goes in as JSON rather than as a string inside JSON (no second escaping, a smaller
 * payload; the server does not parse it twice), and fields at their defaults are left out (json_to_recordset
 * reads them as NULL).
 */
function enqueuePayload(jobs: NewJob[]): string {
  const parts = new Array<string>(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    let text = `{"i":${i},"name":${JSON.stringify(job.name)},"data":${job.dataJson},"priority":${job.priority},"run_at":${job.runAt},"max_attempts":${job.maxAttempts}`;
    if (job.backoff !== null) text += `,"backoff":${JSON.stringify(job.backoff)}`;
    if (job.timeout !== null) text += `,"timeout_ms":${job.timeout}`;
    if (job.uniqueKey !== null) text += `,"unique_key":${JSON.stringify(job.uniqueKey)}`;
    if (job.claimedBy) text += `,"claimed_by":${JSON.stringify(job.claimedBy.workerId)},"lease_until":${job.claimedBy.leaseUntil}`;
    // The trace context is JSON text already (the producer's W3C carrier).
    if (job.traceContext) text += `,"trace_context":${job.traceContext}`;
    if (job.concurrencyKey) text += `,"concurrency_key":${JSON.stringify(job.concurrencyKey)}`;
    parts[i] = `${text}}`;
  }
  return `[${parts.join(',')}]`;
}

/** A flow's children as enqueue's JSON payload (enqueuePayload) with each child's failure policy. */
function flowChildrenPayload(jobs: NewJob[]): string {
  const parts = new Array<string>(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    let text = `{"i":${i},"name":${JSON.stringify(job.name)},"data":${job.dataJson},"priority":${job.priority},"run_at":${job.runAt},"max_attempts":${job.maxAttempts},"on_failure":"${job.onFailure ?? 'fail'}"`;
    if (job.backoff !== null) text += `,"backoff":${JSON.stringify(job.backoff)}`;
    if (job.timeout !== null) text += `,"timeout_ms":${job.timeout}`;
    if (job.traceContext) text += `,"trace_context":${job.traceContext}`;
    parts[i] = `${text}}`;
  }
  return `[${parts.join(',')}]`;
}

/**
 * A batch of outcomes as statement parameters: completions (nearly all of them) as three arrays, ids, result
 * texts and progress texts; the rest as one JSON array of objects, null fields left out.
 */
function outcomeParams(outcomes: Outcome[]): { others: string; completed: [string[], string[], (string | null)[]] } {
  const ids: string[] = [];
  const results: string[] = [];
  const progress: (string | null)[] = [];
  const others: object[] = [];
  for (const o of outcomes) {
    if (o.status === 'completed') {
      ids.push(o.id);
      results.push(o.resultJson);
      progress.push(o.progressJson ?? null);
    } else {
      others.push({
        id: o.id,
        status: o.status,
        progress: o.progressJson,
        error: 'error' in o ? o.error : undefined,
        error_stack: 'errorStack' in o ? o.errorStack : undefined,
        run_at: o.status === 'retry' ? o.runAt : undefined,
      });
    }
  }
  return { others: others.length === 0 ? '[]' : JSON.stringify(others), completed: [ids, results, progress] };
}

/**
 * The NOTIFY channel of a schema. Channel names are identifiers (at most 63 bytes); a long schema name is
 * shortened with a hash so two schemas never share a channel.
 */
export function channelName(schema: string): string {
  const channel = `spool_${schema}`;
  if (channel.length <= 63) return channel;
  return `spool_${schema.slice(0, 40)}_${createHash('sha1').update(schema).digest('hex').slice(0, 16)}`;
}



function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}

/**
 * Errors where the server refused what was sent: SQLSTATE classes 22 (data exception: a value it cannot
 * hold), 23 (integrity constraint) and 54 (program limit exceeded). Sending the same again fails again;
 * connection loss, shutdown, timeouts, lock and resource errors may pass later.
 */
function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

