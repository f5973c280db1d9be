import { DEFAULT_BACKOFF } from './backoff.ts';
import type { Clock } from './clock.ts';
import { ValidationError } from './errors.ts';
import { QueueEvents, type QueueEventType, type QueueListener } from './events.ts';
import {
  countsFilterSchema,
  describeValue,
  eventTypeSchema,
  jobIdSchema,
  jobNameSchema,
  jobOptionsSchema,
  listFilterSchema,
  parseInput,
  jobFilterSchema,
  pageFilterSchema,
  pruneOptionsSchema,
  throughputOptionsSchema,
  waitForOptionsSchema,
  watchOptionsSchema,
} from './input-schemas.ts';
import type { AddedFlow, FlowSpec } from './flows/flow.ts';
import { flowToNewJobs } from './flows/flow-input.ts';
import { flowByName, setLimits, setPaused } from './limits/flow-control.ts';
import type { NameLimits } from './limits/limits.ts';
import { emptyCounts, JOB_STATUSES, type Job, type JobCounts, type JobOptions, type JobStatus, type TransactionClient } from './job.ts';
import { GroupCommit } from './group-commit.ts';
import { handlersOf, isJobDefinition, jsonSchemaOf, type JobDefinition, validateJobData } from './typed/define-job.ts';
import type { StandardSchemaV1 } from './typed/standard-schema.ts';
import { toJsonText } from './json-payload.ts';
import type { Logger } from './logger.ts';
import type { BulkOp, JobFilter as StoreJobFilter, NewJob, Store, StoreStats } from './store/store.ts';
import type { RetentionPolicy } from './retention.ts';
import { ScheduleAdmin } from './schedules/schedule-admin.ts';
import type { ScheduleInfo, ScheduleOptions, ScheduleSpec } from './schedules/spec.ts';
import { startAddSpan } from './tracing.ts';
import { Watchers, type WatchListener, type WatchOptions } from './watch.ts';
import { LocalAdds } from './worker/local-adds.ts';
import { createLocalSignals, type LocalSignals } from './worker/local-signals.ts';
import { Worker } from './worker/worker.ts';
import type { Handlers, WorkerOptions } from './worker/worker-options.ts';

/** One entry of queue.addBulk(). */
export interface BulkJob<Data = unknown> {
  name: string;
  data?: Data;
  options?: JobOptions;
}

/** Which jobs countJobs() and the bulk actions cover; every field narrows. */
export interface JobFilter {
  status?: JobStatus;
  name?: string;
  /** JSON containment: the job's data holds these keys with these values (arrays: these elements). */
  data?: Record<string, unknown>;
}

/** Filter and page of queue.listPage(). */
export interface PageFilter extends JobFilter {
  /** Page size, 1–1000; default 50. */
  limit?: number;
  /** nextCursor of the previous page. */
  cursor?: string;
  /** With data: jobs examined at most per call, below the cursor; default 100,000. */
  scan?: number;
}

/** A page of listPage(): nextCursor is null when nothing is left. */
export interface JobPage {
  jobs: Job[];
  nextCursor: string | null;
}

/** Filter and page of queue.listJobs(). */
export interface ListJobsFilter {
  status?: JobStatus;
  name?: string;
  /** JSON containment (one bounded statement: the matches among the 100,000 jobs below the cursor; see listPage). */
  data?: Record<string, unknown>;
  /** Page size, 1–1000; default 50. */
  limit?: number;
  /** Jobs to skip; prefer `cursor` for deep pages. */
  offset?: number;
  /** The id of the last job of the previous page. */
  cursor?: string;
}

/** One job name as queue.names() reports it. */
export interface NameInfo {
  name: string;
  counts: JobCounts;
  /** When a worker last claimed a job of this name; null if never, or where the store keeps no record. */
  lastClaimedAt: Date | null;
  /** True while queue.pause(name) holds: its jobs wait, pending. */
  paused: boolean;
  /** The limits queue.setLimits() set (only those set), or null. */
  limits: NameLimits | null;
}

/** Jobs ended in one minute (queue.throughput()). */
export interface ThroughputMinute {
  /** The minute's start. */
  minute: Date;
  completed: number;
  /** Jobs that failed for good (retries not counted). */
  failed: number;
}

/** Settings a Queue is built with (openQueue fills them in). */
export interface QueueSettings {
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
  /** What workers delete periodically (openQueue's `retention`); none: nothing. */
  retention?: RetentionPolicy;
}

/** Default page size of listJobs(). */
const DEFAULT_PAGE = 50;
/**
 * Jobs a data search examines per statement. A containment scan of 1,000,000 jobs took 300–600 ms on the
 * (loaded, 2-core) development machine; 100,000 keeps one statement well under 200 ms (.tmp/datascan.ts).
 */
const DATA_SCAN = 100_000;
/** Jobs one bulk statement changes at most. */
const BULK_CHUNK = 1_000;
/**
 * The largest addBulk(): one statement (all or none) carries the whole batch as one JSON parameter, so its
 * size is bounded by memory and by PostgreSQL's 1 GB per message. Measured (.tmp/bulk.ts, .tmp/bulkbig.ts,
 * machine loaded): 1,000,000 small jobs in one call took 20 s on SQLite (1.6 GB RSS) and 29 s on PostgreSQL;
 * 128 jobs of 1 MiB each 2.9 s and 3.2 s. Larger batches are refused before anything is written.
 */
const MAX_BULK_JOBS = 1_000_000;
const MAX_BULK_DATA_CHARS = 128 * 1024 * 1024;
/** Jobs one prune statement deletes at most, so a big clean-up never holds the write lock for long. */
const PRUNE_CHUNK = 10_000;

/**
 * The producer and admin API over one store. Validates every input before anything is written,
 * emits events to in-process listeners, and creates workers that share its store.
 */
export class Queue {
  private readonly events: QueueEvents;
  private readonly signals: LocalSignals = createLocalSignals();
  private readonly workers = new Set<Worker>();
  private readonly groupCommit: GroupCommit;
  private readonly localAdds = new LocalAdds();
  private readonly watchers: Watchers;
  /** Typed jobs seen by add() and worker(), by name (jobTypes()). */
  private readonly typedJobs = new Map<string, JobDefinition>();
  private readonly schedules: ScheduleAdmin;
  private closed = false;

  constructor(
    /** The store underneath; internal, exposed for tests and tools in this repository. */
    readonly store: Store,
    private readonly settings: QueueSettings,
  ) {
    this.groupCommit = new GroupCommit(store, () => settings.clock.now());
    this.watchers = new Watchers(store, settings.logger);
    this.schedules = new ScheduleAdmin({
      store, clock: settings.clock, signals: this.signals, maxPayloadBytes: settings.maxPayloadBytes,
      add: (name, data, options) => this.add(name, data, options),
    });
    this.events = new QueueEvents((error, event) =>
      settings.logger.error(`a '${event.type}' listener threw: ${(error as Error)?.message ?? error}`, { jobId: event.job.id }),
    );
  }

  /**
   * Adds one job; one statement, shared with the add() calls running concurrently in this process (group
   * commit: 64 concurrent adds cost about two statements). Resolves once the job is committed, with its id (the
   * existing job's id when `uniqueKey` matches one pending or running). PostgreSQL: with `options.client` the
   * job is inserted inside your own transaction (see JobOptions), in a statement of its own.
   */
  async add<S extends StandardSchemaV1>(job: JobDefinition<S>, data: StandardSchemaV1.InferInput<S>, options?: JobOptions): Promise<string>;
  async add<Data>(name: string, data?: Data, options?: JobOptions): Promise<string>;
  async add(nameOrJob: string | JobDefinition, data?: unknown, options?: JobOptions): Promise<string> {
    let name: string;
    if (typeof nameOrJob === 'object' && nameOrJob !== null && isJobDefinition(nameOrJob)) {
      // A typed job: the schema checks the data before anything is written; the data given is stored.
      this.assertOpen();
      await validateJobData(nameOrJob, data);
      this.typedJobs.set(nameOrJob.name, nameOrJob);
      name = nameOrJob.name;
    } else {
      name = nameOrJob as string;
      // A name the queue knows as a typed job is checked too: adds from the CLI or HTTP in this process.
      const typed = typeof name === 'string' ? this.typedJobs.get(name) : undefined;
      if (typed) await validateJobData(typed, data);
    }
    const [id] = await this.addBulk([{ name, data, options }]);
    return id!;
  }

  /**
   * The typed jobs this queue has seen (through add() or worker()), with the JSON Schema of their data when
   * the schema library offers one (zod 4 does): what a form for adding them needs.
   */
  jobTypes(): { name: string; jsonSchema: Record<string, unknown> | null }[] {
    return [...this.typedJobs.values()].map((d) => ({ name: d.name, jsonSchema: jsonSchemaOf(d) })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Adds many jobs in one statement (one transaction): all or none. Ids come back in input order. */
  async addBulk(entries: BulkJob[]): Promise<string[]> {
    this.assertOpen();
    if (!Array.isArray(entries)) throw new ValidationError([`addBulk() takes an array of { name, data, options }, got ${typeof entries}`]);
    if (entries.length > MAX_BULK_JOBS) {
      throw new ValidationError([`addBulk() takes at most ${MAX_BULK_JOBS.toLocaleString('en')} jobs per call (one statement), got ${entries.length}; split them into several calls`]);
    }
    let now = this.settings.clock.now();
    const clients = new Set<TransactionClient | undefined>();
    const jobs = entries.map((entry, i) => this.toNewJob(entry, entries.length === 1 ? '' : `jobs[${i}].`, now, clients));
    if (jobs.length === 0) return [];
    let dataChars = 0;
    for (const job of jobs) dataChars += job.dataJson.length;
    if (dataChars > MAX_BULK_DATA_CHARS) {
      const mib = (dataChars / 2 ** 20).toFixed(1);
      throw new ValidationError([
        `addBulk() data of all ${jobs.length} jobs together is ${mib} MiB as JSON, over the ${MAX_BULK_DATA_CHARS / 2 ** 20} MiB one statement carries; split them into several calls`,
      ]);
    }
    if (clients.size > 1) {
      throw new ValidationError(['options.client must be the same client on every job of one addBulk(), or on none: the batch is one transaction']);
    }
    const [client] = clients;
    const span = startAddSpan([...new Set(jobs.map((j) => j.name))], jobs.length);
    if (span.carrier !== null) for (const job of jobs) job.traceContext = span.carrier;
    const handoff = client ? undefined : this.reserveHandoff(jobs, now);
    let ids: string[] = [];
    // Inside the caller's transaction nothing is announced locally: the feed is how workers learn of it.
    const token = client === undefined ? this.localAdds.sent() : undefined;
    try {
      if (client !== undefined || jobs.length > 1) ids = await this.store.enqueue({ jobs, now, ...(client ? { client } : {}) });
      else {
        // A single add shares its statement with the adds running concurrently in this process.
        const committed = await this.groupCommit.add(jobs[0]!);
        ids = [committed.id];
        now = committed.now;
      }
    } catch (error) {
      handoff?.worker.adopt(null);
      span.end(error);
      throw error;
    } finally {
      if (token !== undefined) this.localAdds.settled(token, ids);
    }
    span.end();
    // Inside the caller's transaction the jobs may still roll back: no local event or wake-up now; workers
    // everywhere learn of them from the change feed when the transaction commits.
    if (client) return ids;
    if (!handoff) this.announceRunnable(jobs.map((j) => j.runAt));
    if (this.events.has('added')) {
      jobs.forEach((job, i) => this.events.emit('added', newJobSnapshot(ids[i]!, job, now)));
    }
    if (handoff) handoff.worker.adopt({ ...newJobSnapshot(ids[0]!, jobs[0]!, now), ...handedOff(handoff.claim, now) });
    return ids;
  }

  /**
   * Adds a flow: a parent job and its children in one transaction (one statement on PostgreSQL, two on SQLite,
   * whatever the number of children). The parent waits, pending, until every child is finished, then runs and
   * reads them with ctx.children(); `onChildFailure` (default 'fail', or per child `onFailure`) says what a
   * child failing for good does to it (docs/flows.md). Returns the parent's id and the children's, in order.
   */
  async addFlow(spec: FlowSpec): Promise<AddedFlow> {
    this.assertOpen();
    const now = this.settings.clock.now();
    const { parent, children } = flowToNewJobs(spec, (entry, prefix) => this.toNewJob(entry, prefix, now, new Set()));
    const span = startAddSpan([...new Set([parent.name, ...children.map((j) => j.name)])], children.length + 1);
    if (span.carrier !== null) for (const job of [parent, ...children]) job.traceContext = span.carrier;
    let added: AddedFlow;
    try {
      added = await this.store.enqueueFlow({ parent, children, now });
    } catch (error) {
      span.end(error);
      throw error;
    }
    span.end();
    this.announceRunnable(children.map((j) => j.runAt));
    if (this.events.has('added')) {
      this.events.emit('added', { ...newJobSnapshot(added.id, parent, now), progress: { done: 0, total: children.length } });
      children.forEach((job, i) => this.events.emit('added', { ...newJobSnapshot(added.childIds[i]!, job, now), parentId: added.id }));
    }
    return added;
  }

  /**
   * The children of a flow's parent, oldest first, as they are now; one statement. Inside the parent's handler
   * use ctx.children(), which also leaves out the failures its policy ignores.
   */
  async children(parentId: string): Promise<Job[]> {
    this.assertOpen();
    return this.store.children({ parentId: parseInput(jobIdSchema, parentId, 'parentId'), ignored: true });
  }

  /**
   * Checks jobs exactly as addBulk() would, writing nothing and sending no statement: for each entry, null
   * when addBulk() would accept it, else its problems (the issues of the ValidationError it would throw).
   * An importer reports every bad entry at once, then adds only the good ones (what `spool add --file` does).
   */
  checkJobs(entries: BulkJob[]): (string[] | null)[] {
    this.assertOpen();
    if (!Array.isArray(entries)) throw new ValidationError([`checkJobs() takes an array of { name, data, options }, got ${typeof entries}`]);
    const now = this.settings.clock.now();
    return entries.map((entry) => {
      try {
        this.toNewJob(entry, '', now, new Set());
        return null;
      } catch (error) {
        if (error instanceof ValidationError) return error.issues;
        throw error;
      }
    });
  }

  /**
   * A single due job without a uniqueKey (so certainly inserted) goes straight to an idle local worker of
   * its name, inserted already claimed: add() to handler start is one statement and one commit.
   */
  private reserveHandoff(jobs: NewJob[], now: number): { worker: Worker; claim: { workerId: string; leaseUntil: number } } | undefined {
    const job = jobs[0]!;
    if (jobs.length !== 1 || job.uniqueKey !== null || job.runAt > now) return undefined;
    for (const worker of this.workers) {
      const claim = worker.reserveHandoff(job.name);
      if (claim) {
        job.claimedBy = claim;
        return { worker, claim };
      }
    }
    return undefined;
  }

  /** The job, or null; one statement. */
  async getJob(id: string): Promise<Job | null> {
    this.assertOpen();
    return this.store.get(parseInput(jobIdSchema, id, 'id'));
  }

  /** A page of jobs, newest first: ONE statement whatever the limit. */
  async listJobs(filter: ListJobsFilter = {}): Promise<Job[]> {
    this.assertOpen();
    const f = parseInput(listFilterSchema, filter, 'filter');
    if (f.data !== undefined) {
      if (f.offset !== undefined) throw new ValidationError(['filter.offset cannot be used with data: page with cursor (or listPage(), whose nextCursor goes on where a data search stopped)']);
      const { jobs } = await this.store.page({
        filter: jobFilterOf(f),
        ...(f.cursor !== undefined ? { cursor: f.cursor } : {}),
        limit: f.limit ?? DEFAULT_PAGE,
        scan: DATA_SCAN,
      });
      return jobs;
    }
    return this.store.list({
      status: f.status as JobStatus | undefined,
      name: f.name,
      limit: f.limit ?? DEFAULT_PAGE,
      offset: f.offset ?? 0,
      cursor: f.cursor,
    });
  }

  /**
   * One page of jobs matching a filter, newest first, and where the next page starts (`nextCursor`, null when
   * nothing is left). With `data` (JSON containment, e.g. `{ repo: 'a/b' }`) one call examines at most `scan`
   * jobs below the cursor (default 100,000), so every call is one bounded statement whatever the table's size:
   * a page may hold fewer than `limit` jobs (even none) and still have a nextCursor. Without `data` pages are
   * full until the last.
   */
  async listPage(filter: PageFilter = {}): Promise<JobPage> {
    this.assertOpen();
    const f = parseInput(pageFilterSchema, filter, 'filter');
    return this.store.page({
      filter: jobFilterOf(f),
      ...(f.cursor !== undefined ? { cursor: f.cursor } : {}),
      limit: f.limit ?? DEFAULT_PAGE,
      scan: f.scan ?? DATA_SCAN,
    });
  }

  /**
   * How many jobs match the filter, exactly (what a bulk action would touch, to confirm first). Without `data`
   * it reads the counters (SQLite; a few rows whatever the table's size); with `data` it is one scan of the
   * jobs of the filter's status and name.
   */
  async countJobs(filter: JobFilter = {}): Promise<number> {
    this.assertOpen();
    return this.store.countMatching(jobFilterOf(parseInput(jobFilterSchema, filter, 'filter')));
  }

  /**
   * Retries every failed or cancelled job matching the filter (a `status` given must be one of those); returns
   * how many. Chunks of at most 1,000 jobs, one statement each, so workers' claims are never held up. A job
   * whose uniqueKey is held again by a live job is left as it is (as retry() would refuse it).
   */
  async retryMany(filter: JobFilter = {}): Promise<number> {
    return this.bulk('retry', filter, ['failed', 'cancelled']);
  }

  /**
   * Cancels every pending or running job matching the filter (running ones abort: at once in this process,
   * at their worker's next tick elsewhere); returns how many. Chunks of at most 1,000, one statement each.
   */
  async cancelMany(filter: JobFilter = {}): Promise<number> {
    return this.bulk('cancel', filter, ['pending', 'running']);
  }

  /** Deletes every job matching the filter; returns how many. Chunks of at most 1,000, one statement each. */
  async deleteMany(filter: JobFilter = {}): Promise<number> {
    return this.bulk('delete', filter, JOB_STATUSES);
  }

  private async bulk(op: BulkOp, filter: JobFilter, statuses: readonly JobStatus[]): Promise<number> {
    this.assertOpen();
    const f = jobFilterOf(parseInput(jobFilterSchema, filter, 'filter'));
    if (f.status !== undefined && !statuses.includes(f.status)) {
      throw new ValidationError([`filter.status ${JSON.stringify(f.status)} cannot be ${op === 'retry' ? 'retried' : 'cancelled'}; give ${statuses.join(' or ')}, or no status`]);
    }
    let total = 0;
    let cursor: string | undefined;
    for (;;) {
      const { changed, nextCursor } = await this.store.bulk({ op, filter: f, ...(cursor !== undefined ? { cursor } : {}), limit: BULK_CHUNK, scan: DATA_SCAN, now: this.settings.clock.now() });
      total += changed.length;
      // A retry makes jobs runnable; a cancel or delete may finish a flow's last child, making its parent runnable.
      if (changed.length > 0) this.announceRunnable([this.settings.clock.now()]);
      for (const c of changed) {
        if (c.from !== 'running') continue;
        if (op === 'cancel') this.signals.emit('cancel', c.id);
        else if (op === 'delete') this.signals.emit('delete', c.id);
      }
      if (nextCursor === null) return total;
      cursor = nextCursor;
    }
  }

  /** Failed or cancelled → pending, attempts reset; one statement. Throws JobStateError in any other state. */
  async retry(id: string): Promise<Job> {
    const job = await this.transition(id, 'retry');
    this.announceRunnable([job.runAt.getTime()]);
    return job;
  }

  /** Pending → cancelled; running → its signal aborts (here at once, elsewhere at the worker's next tick), then cancelled. */
  async cancel(id: string): Promise<Job> {
    const job = await this.transition(id, 'cancel');
    if (job.status === 'cancelled') this.events.emit('cancelled', job);
    else this.signals.emit('cancel', job.id);
    // The last child of a flow may have gone: its parent may be due now.
    if (job.parentId) this.announceRunnable([this.settings.clock.now()]);
    return job;
  }

  /** Removes the job wherever it is; a running one is aborted by its worker. */
  async delete(id: string): Promise<void> {
    const job = await this.transition(id, 'delete');
    if (job.status === 'running') this.signals.emit('delete', job.id);
    if (job.parentId) this.announceRunnable([this.settings.clock.now()]);
  }

  /** Jobs per status (optionally of one name); one statement. */
  async counts(filter: { name?: string } = {}): Promise<JobCounts> {
    this.assertOpen();
    return this.store.counts(parseInput(countsFilterSchema, filter, 'filter'));
  }

  /** Jobs per name and status; one statement. */
  async countsByName(): Promise<Record<string, JobCounts>> {
    this.assertOpen();
    return this.store.countsByName();
  }

  /**
   * Every job name the store knows: its jobs per status, and when a worker last claimed one (null where the
   * store keeps no record). One statement over the counters (SQLite), whatever the number of jobs.
   */
  async names(): Promise<NameInfo[]> {
    this.assertOpen();
    const [rows, flow] = await Promise.all([this.store.names(), flowByName(this.store)]);
    const infos: NameInfo[] = rows.map((r) => ({
      name: r.name,
      counts: r.counts,
      lastClaimedAt: r.lastClaimAt === null ? null : new Date(r.lastClaimAt),
      paused: flow.get(r.name)?.paused ?? false,
      limits: flow.get(r.name)?.limits ?? null,
    }));
    // A name paused or limited before its first job shows too.
    for (const [name, f] of flow) {
      if (!infos.some((i) => i.name === name) && (f.paused || f.limits)) infos.push({ name, counts: emptyCounts(), lastClaimedAt: null, ...f });
    }
    return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Pauses a job name for every worker of every process: its pending jobs stay pending, running ones finish,
   * and no worker claims one once it has re-read the control rows: at once in this process, within one
   * pollMs elsewhere. One statement.
   */
  async pause(name: string): Promise<void> {
    this.assertOpen();
    this.signals.emit('controls', await setPaused(this.store, name, true, this.settings.clock.now()));
  }

  /** Lets workers claim jobs of a paused name again (see pause()). One statement. */
  async resume(name: string): Promise<void> {
    this.assertOpen();
    this.signals.emit('controls', await setPaused(this.store, name, false, this.settings.clock.now()));
  }

  /**
   * Sets a job name's limits, cluster-wide, replacing those set before (absent or null: none): `concurrency`
   * (running at once across all workers), `perKeyConcurrency` (per add(..., { concurrencyKey })), `rate` and
   * `perKeyRate` ({ max, intervalMs }: starts in any window of intervalMs). Enforced inside the claim's
   * transaction, so concurrent workers never overshoot; workers learn of new limits at once in this process,
   * within one pollMs elsewhere. One statement; ValidationError (nothing written) for bad limits.
   */
  async setLimits(name: string, limits: NameLimits): Promise<void> {
    this.assertOpen();
    this.signals.emit('controls', await setLimits(this.store, name, limits, this.settings.clock.now()));
  }

  /**
   * Jobs that completed, and that failed for good, in each of the last `minutes` minutes (default 60, the
   * current one included), oldest first, zeros included; optionally of one name. One statement.
   */
  async throughput(options: { minutes?: number; name?: string } = {}): Promise<ThroughputMinute[]> {
    this.assertOpen();
    const o = parseInput(throughputOptionsSchema, options, 'options');
    const minutes = o.minutes ?? 60;
    const last = Math.floor(this.settings.clock.now() / 60_000);
    const first = last - minutes + 1;
    const rows = await this.store.throughput({ sinceMinute: first, ...(o.name ? { name: o.name } : {}) });
    const byMinute = new Map(rows.map((r) => [r.minute, r]));
    return Array.from({ length: minutes }, (_, i) => {
      const row = byMinute.get(first + i);
      return { minute: new Date((first + i) * 60_000), completed: row?.completed ?? 0, failed: row?.failed ?? 0 };
    });
  }

  /**
   * Deletes jobs that finished (by default: completed) more than `olderThan` ms ago; returns how many.
   * One statement per 10,000 jobs. Run it on a schedule to keep the table small; the dead-letter queue
   * (failed jobs) is kept unless you name 'failed'.
   */
  async prune(options: { olderThan: number; statuses?: ('completed' | 'failed' | 'cancelled')[] }): Promise<number> {
    this.assertOpen();
    const o = parseInput(pruneOptionsSchema, options, 'options');
    const before = this.settings.clock.now() - o.olderThan;
    const statuses = o.statuses ?? ['completed'];
    let total = 0;
    for (;;) {
      const deleted = await this.store.prune({ statuses, before, limit: PRUNE_CHUNK });
      total += deleted;
      if (deleted < PRUNE_CHUNK) return total;
    }
  }

  /**
   * Writes a job's progress now: one statement per call (a second reads the job back for the event when a
   * 'progress' listener is attached in this process). Inside a handler use ctx.progress() (free);
   * outside, batch with createBatchedProgressUpdater().
   */
  async updateProgress(id: string, progress: unknown): Promise<boolean> {
    this.assertOpen();
    const jobId = parseInput(jobIdSchema, id, 'id');
    const json = toJsonText(progress, 'progress', this.settings.maxPayloadBytes);
    const written = await this.store.setProgress({ updates: [{ id: jobId, json }] });
    if (written.length > 0 && this.events.has('progress')) {
      const job = await this.store.get(jobId);
      if (job) this.events.emit('progress', job);
    }
    return written.length > 0;
  }

  /** Where this queue reports what it cannot throw (the logger given to openQueue): workers, timed progress flushes. */
  get logger(): Logger {
    return this.settings.logger;
  }

  /** Listens to job events of this process ('added', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled'). */
  on(type: QueueEventType, listener: QueueListener): this {
    this.events.on(checkEventType(type), checkListener(type, listener));
    return this;
  }

  off(type: QueueEventType, listener: QueueListener): this {
    this.events.off(checkEventType(type), checkListener(type, listener));
    return this;
  }

  once(type: QueueEventType, listener: QueueListener): this {
    this.events.once(checkEventType(type), checkListener(type, listener));
    return this;
  }

  /**
   * Listens to changes made by ANY process (this one included): jobs added, started, progressing (as written
   * by the worker's tick), retrying, completed, failed, cancelled or deleted, each with the job as read after
   * the change. Filter by `names` or `ids` (a job matching either is heard); neither hears every job.
   * Returns the unsubscribe function.
   *
   * Cost: one change-feed subscription per queue, however many watchers; the jobs of a batch of changes are
   * read in ONE statement (only those some watcher wants), never one per job, and nothing is written.
   * PostgreSQL: from the statements' NOTIFY. SQLite: from a journal row each write transaction appends,
   * followed after local commits and when PRAGMA data_version shows another process's.
   */
  watch(listener: WatchListener, options: WatchOptions = {}): () => void {
    this.assertOpen();
    if (typeof listener !== 'function') {
      throw new ValidationError([`watch() takes a listener function (event) => void, got ${describeValue(listener)}`]);
    }
    const o = parseInput(watchOptionsSchema, options, 'options');
    return this.watchers.add(listener, o);
  }

  /**
   * Resolves with the job once it completed, whichever process ran it; rejects with JobFailedError when it
   * ends failed or cancelled, JobNotFoundError when it does not exist (or is deleted), WaitTimeoutError after
   * `timeout` ms. One read now, then the change feed (no polling).
   */
  async waitFor(id: string, options: { timeout?: number } = {}): Promise<Job> {
    this.assertOpen();
    const jobId = parseInput(jobIdSchema, id, 'id');
    const o = parseInput(waitForOptionsSchema, options, 'options');
    return this.watchers.waitFor(jobId, o.timeout);
  }

  /**
   * Creates or updates the schedule `key` (idempotent: every process may declare its schedules at boot).
   * `{ cron, tz }` (IANA zone, default UTC; DST rules in docs/schedules.md) or `{ every: ms }`; each fire adds
   * one job `name` with `data` and the job options given, exactly once across all processes. One statement.
   */
  async schedule(key: string, spec: ScheduleSpec, name: string, data?: unknown, options?: ScheduleOptions): Promise<ScheduleInfo> {
    this.assertOpen();
    return this.schedules.schedule(key, spec, name, data, options);
  }

  /** Every schedule with its next and last fire; one statement. */
  async listSchedules(): Promise<ScheduleInfo[]> {
    this.assertOpen();
    return this.schedules.list();
  }

  /** Stops a schedule firing, in every process; fires while paused are not run later. */
  async pauseSchedule(key: string): Promise<ScheduleInfo> {
    this.assertOpen();
    return this.schedules.pause(key);
  }

  /** Fires a paused schedule again, from its next fire time after now. */
  async resumeSchedule(key: string): Promise<ScheduleInfo> {
    this.assertOpen();
    return this.schedules.resume(key);
  }

  /** Adds the schedule's job now (outside its fire times); returns the job id. */
  async triggerSchedule(key: string): Promise<string> {
    this.assertOpen();
    return this.schedules.trigger(key);
  }

  /** Removes a schedule; jobs it already added stay. ScheduleNotFoundError when there is none. */
  async unschedule(key: string): Promise<void> {
    this.assertOpen();
    await this.schedules.remove(key);
  }

  /**
   * Creates a worker for these handlers (a map of name → handler, or typed jobs made by defineJob(), whose
   * handlers get their data parsed by the schema); call start() on it.
   */
  worker(handlers: Handlers | readonly JobDefinition[], options: WorkerOptions = {}): Worker {
    this.assertOpen();
    if (Array.isArray(handlers)) {
      const definitions = handlers as readonly JobDefinition[];
      const typed = handlersOf(definitions);
      for (const definition of definitions) this.typedJobs.set(definition.name, definition);
      handlers = typed;
    }
    const worker = new Worker(this.store, handlers as Handlers, options, {
      clock: this.settings.clock,
      logger: this.settings.logger,
      events: this.events,
      signals: this.signals,
      localAdds: this.localAdds,
      maxPayloadBytes: this.settings.maxPayloadBytes,
      ...(this.settings.retention ? { retention: this.settings.retention } : {}),
      onStopped: (w) => this.workers.delete(w),
    });
    this.workers.add(worker);
    return worker;
  }

  /** Resolves when the database answers one trivial statement; rejects with StoreError otherwise. */
  async ping(): Promise<void> {
    this.assertOpen();
    await this.store.ping();
  }

  /** Statements and round trips the store has sent so far. */
  stats(): StoreStats {
    return this.store.stats();
  }

  /** Stops this queue's workers (gracefully) and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.close();
    await Promise.all([...this.workers].map((w) => w.stop()));
    await this.store.close();
  }

  private async transition(id: string, op: 'retry' | 'cancel' | 'delete'): Promise<Job> {
    this.assertOpen();
    const jobId = parseInput(jobIdSchema, id, 'id');
    const job = await this.store.transition({ id: jobId, op, now: this.settings.clock.now() });
    return job!;
  }

  private announceRunnable(runAts: number[]): void {
    if (runAts.length === 0) return;
    // A loop, not Math.min(...runAts): spreading ~125,000 arguments overflowed the stack after the commit.
    let earliest = runAts[0]!;
    for (const runAt of runAts) if (runAt < earliest) earliest = runAt;
    this.signals.emit('runnable', earliest);
  }

  private toNewJob(entry: BulkJob, prefix: string, now: number, clients: Set<TransactionClient | undefined>): NewJob {
    if (entry === null || typeof entry !== 'object') {
      throw new ValidationError([`${prefix || 'each job '}must be an object { name, data, options }, got ${entry}`]);
    }
    const name = parseInput(jobNameSchema, entry.name, `${prefix}name`);
    const options = parseInput(jobOptionsSchema, entry.options ?? {}, `${prefix}options`);
    const dataJson = toJsonText(entry.data, `${prefix}data`, this.settings.maxPayloadBytes);
    clients.add(options.client);
    return {
      name,
      dataJson,
      priority: options.priority ?? 0,
      runAt: options.runAt ? options.runAt.getTime() : now + (options.delay ?? 0),
      maxAttempts: options.maxAttempts ?? 3,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      timeout: options.timeout ?? null,
      uniqueKey: options.uniqueKey ?? null,
      concurrencyKey: options.concurrencyKey ?? null,
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ValidationError(['the queue is closed; open a new one with openQueue()']);
  }
}

/** A typo ('complete') would otherwise register a listener that never fires. */
function checkEventType(type: QueueEventType): QueueEventType {
  return parseInput(eventTypeSchema, type, 'event type') as QueueEventType;
}

function checkListener(type: unknown, listener: QueueListener): QueueListener {
  if (typeof listener !== 'function') {
    throw new ValidationError([`the listener of '${String(type)}' must be a function (event) => void, got ${describeValue(listener)}`]);
  }
  return listener;
}

function handedOff(claim: { workerId: string; leaseUntil: number }, now: number): Partial<Job> {
  return { status: 'running', attempts: 1, processingBy: claim.workerId, leaseUntil: new Date(claim.leaseUntil), startedAt: new Date(now) };
}

function newJobSnapshot(id: string, job: NewJob, now: number): Job {
  return {
    id,
    name: job.name,
    data: JSON.parse(job.dataJson),
    status: 'pending',
    priority: job.priority,
    attempts: 0,
    maxAttempts: job.maxAttempts,
    progress: null,
    result: null,
    error: null,
    errorStack: null,
    runAt: new Date(job.runAt),
    createdAt: new Date(now),
    startedAt: null,
    completedAt: null,
    processingBy: null,
    uniqueKey: job.uniqueKey,
    backoff: job.backoff,
    timeout: job.timeout,
    leaseUntil: null,
    cancelRequested: false,
    errors: [],
    traceContext: job.traceContext ? (JSON.parse(job.traceContext) as Record<string, string>) : null,
  };
}

/** The store's filter from a validated one (undefined fields left out). */
function jobFilterOf(f: { status?: string; name?: string; data?: Record<string, unknown> }): StoreJobFilter {
  return {
    ...(f.status !== undefined ? { status: f.status as JobStatus } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.data !== undefined ? { data: f.data } : {}),
  };
}
