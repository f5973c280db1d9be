import type { WatchEvent } from '../events.ts';
import type { ChildFailurePolicy } from '../flows/flow.ts';
import type { BackoffOptions, Job, JobCounts, JobStatus, TransactionClient } from '../job.ts';
import type { NameControl } from '../limits/limits.ts';

/**
 * The one seam between Spool and a database. Queue and Worker decide (backoff, attempts, events);
 * a Store only reads and writes rows. Every method handles many jobs per call and costs one statement
 * or one short transaction, whatever the number of jobs it carries. Times are epoch milliseconds
 * passed in by the caller, so an injected clock governs the SQL too.
 *
 * Internal: not public API. When a method's meaning changes, extend test/conformance.ts.
 */
export interface Store extends ScheduleStore {
  readonly kind: 'sqlite' | 'postgres';

  /**
   * True when two calls can run at once (a pool of connections to a server). A worker then writes outcomes
   * and claims in parallel, on two connections, instead of carrying outcomes in the claim: PostgreSQL does
   * both on two cores. False for SQLite, where carrying saves a commit.
   */
  readonly parallel: boolean;

  /**
   * Inserts jobs in one statement; returns their ids in input order (the existing id where a uniqueKey matched).
   * With `client` (PostgreSQL only; SQLite throws ValidationError) the insert runs on the caller's connection,
   * inside their open transaction: the jobs exist only if it commits.
   */
  enqueue(p: { jobs: NewJob[]; now: number; client?: TransactionClient }): Promise<string[]>;

  /**
   * Inserts a flow: the parent, waiting (pending with runAt FLOW_WAIT_AT, so no claim takes it) until its
   * children are finished, and the children, carrying its id and their failure policy. One statement
   * (SQLite: one transaction of two) whatever the number of children. Children ids come in input order.
   * Every statement that finishes, cancels, deletes or retries children moves their parents on (src/flows).
   */
  enqueueFlow(p: { parent: NewJob; children: NewJob[]; now: number }): Promise<{ id: string; childIds: string[] }>;

  /**
   * The children of a flow's parent, oldest first; one statement. `ignored: false` leaves out failed children
   * whose policy is 'ignore' (what the parent's ctx.children() shows).
   */
  children(p: { parentId: string; ignored: boolean }): Promise<Job[]>;

  /**
   * Takes up to `limit` runnable jobs of `names` for `workerId`: pending and due (priority desc, runAt, id),
   * and running jobs whose lease ran out (a dead worker's). Marks them running, attempts + 1, leased until
   * now + leaseMs. `finish`, when given, is written first in the same transaction (one round trip).
   */
  claim(p: ClaimParams): Promise<ClaimResult>;

  /**
   * Every name's flow control (pause, limits): a few rows, one statement. Workers read it at start and when
   * told it changed, and split their names into plain ones (the plain claim) and limited ones.
   */
  controls(): Promise<NameControl[]>;

  /**
   * Writes one name's control, one statement: `paused` when given, and with `limits` all four limits (null
   * removes one). Tells other processes (PostgreSQL: NOTIFY 'controls'; SQLite: the commit changes
   * data_version). Returns the row as stored.
   */
  setControl(p: { name: string; paused?: boolean; limits?: Omit<NameControl, 'name' | 'paused'>; now: number }): Promise<NameControl>;

  /**
   * The worker tick, one statement: extends the lease of every job in `running` still held by `workerId`,
   * writes the coalesced progress given, and reports which were cancelled and which the worker lost
   * (deleted, or taken over after the lease ran out).
   */
  tick(p: TickParams): Promise<TickResult>;

  /**
   * Writes a batch of outcomes of jobs held by `workerId` (held ones only). A 'retry' or 'released' outcome of
   * a job whose cancel was requested ends it cancelled instead (the request wins over running it again).
   */
  finish(p: { workerId: string; now: number; outcomes: Outcome[] }): Promise<FinishResult>;

  /** Writes progress of jobs still pending or running, one statement; returns the ids written. */
  setProgress(p: { updates: { id: string; json: string }[] }): Promise<string[]>;

  get(id: string): Promise<Job | null>;

  /** One statement whatever the page size: newest first, keyset by id (`cursor`) or offset. */
  list(filter: ListFilter): Promise<Job[]>;

  /**
   * One bounded page, newest first, below `cursor` (default: from the newest). With `filter.data` (JSON
   * containment) at most `scan` ids below the cursor are examined, so one call costs the same at 1,000 jobs
   * or 10,000,000; `nextCursor` says where the next page starts (null: nothing is left below). One statement.
   */
  page(p: PageParams): Promise<{ jobs: Job[]; nextCursor: string | null }>;

  /** How many jobs match the filter, exactly. Without `data` from counters; with it, one scan of the filter's range. */
  countMatching(filter: JobFilter): Promise<number>;

  /**
   * One chunk of a bulk action: applies `op` to at most `limit` (≤ 1,000) jobs matching the filter below
   * `cursor` (and, with `filter.data`, at most `scan` ids below it), newest first. Returns the jobs changed and
   * where the next chunk starts (null: done). One statement (SQLite: one short transaction of two).
   */
  bulk(p: BulkParams): Promise<BulkResult>;

  /** One statement: jobs per status, optionally of one name. */
  counts(filter: { name?: string }): Promise<JobCounts>;

  /** Jobs per name and status, one statement. */
  countsByName(): Promise<Record<string, JobCounts>>;

  /**
   * Per job name: jobs by status and when a worker last claimed one (null when the store does not know);
   * one statement, names with no job and no claim left out.
   */
  names(): Promise<NameStats[]>;

  /** Jobs that completed and that failed for good, per minute from `sinceMinute` (epoch ms / 60,000); one statement. */
  throughput(p: { sinceMinute: number; name?: string }): Promise<MinuteCount[]>;

  /**
   * Moves one job if its state allows, checking the state inside the statement:
   * retry: failed|cancelled → pending (attempts reset); cancel: pending → cancelled, running → cancel requested;
   * delete: removes it anywhere. Throws JobNotFoundError or JobStateError otherwise.
   */
  transition(p: { id: string; op: TransitionOp; now: number }): Promise<Job | null>;

  /**
   * Deletes up to `limit` jobs in `statuses` that finished before `before`, oldest first, in one statement;
   * returns how many it deleted. Retention keeps the table, and so every index, small.
   */
  prune(p: { statuses: JobStatus[]; before: number; limit: number }): Promise<number>;

  /**
   * The change feed: changes made by other processes (and, for PostgreSQL, this one), with no per-job writes
   * beyond the store's own statements. Workers use it to wake for jobs added elsewhere; watchers (server,
   * CLI) to refresh. With `types`, only changes of those types reach the listener ('external' always), and a
   * store may skip reading what no listener wants. Returns the unsubscribe function.
   */
  watch(listener: (events: FeedEvent[]) => void, types?: readonly JobChangeType[]): () => void;

  /**
   * The itemised change feed: jobs changed by any process (this one included), read in ONE statement per
   * batch of changes, never one per job, and never an extra write per job. `interest` says which jobs the
   * subscriber wants read (asked before each read; the store may deliver more). `onGap` says changes were
   * missed (a feed reconnect, a batch too large to itemise, a reader left far behind): re-read what you show.
   */
  watchJobs(p: WatchJobsParams): () => void;

  /** The jobs of these ids that exist, in no set order; one statement. */
  getMany(ids: string[]): Promise<Job[]>;

  /** One trivial statement: resolves when the database answers (health checks). */
  ping(): Promise<void>;

  /** Statements and round trips sent so far, in all and per method: how tests keep N+1 dead. */
  stats(): StoreStats;

  close(): Promise<void>;
}

/** Job changes as the feed reports them. */
export type JobChangeType = 'added' | 'started' | 'progress' | 'retrying' | 'completed' | 'failed' | 'cancelled' | 'deleted';

/**
 * One feed event. Itemised (`ids`) where the database can say what changed cheaply (PostgreSQL NOTIFY from
 * the batch statements); `external` where it can only say that another process committed (SQLite's
 * data_version): re-read what you show, and claim again if you are a worker.
 */
export type FeedEvent =
  /** `count` is how many jobs changed: more than `ids.length` when a large batch was summarised (ids omitted). */
  | { type: JobChangeType; ids: string[]; names: string[]; runAt?: number; count?: number }
  | { type: 'external' };

/** A subscriber of Store.watchJobs. */
export interface WatchJobsParams {
  interest: () => WatchInterest;
  onChanges: (events: WatchEvent[]) => void;
  onGap: (reason: string) => void;
}

/** Which jobs a change-feed subscriber wants read: all of them, or those of some names or ids. */
export interface WatchInterest {
  all: boolean;
  names: ReadonlySet<string>;
  ids: ReadonlySet<string>;
}

/** One job name's figures. */
export interface NameStats {
  name: string;
  counts: JobCounts;
  /** Epoch ms of the last claim of a job of this name, or null. */
  lastClaimAt: number | null;
}

/** Jobs ended in one minute (`minute`: epoch ms / 60,000). Minutes with none are left out. */
export interface MinuteCount {
  minute: number;
  completed: number;
  failed: number;
}

export type TransitionOp = 'retry' | 'cancel' | 'delete';

/** A validated job ready to insert. Data is already JSON text (validated and size-checked at the edge). */
export interface NewJob {
  name: string;
  dataJson: string;
  priority: number;
  runAt: number;
  maxAttempts: number;
  backoff: BackoffOptions | null;
  timeout: number | null;
  uniqueKey: string | null;
  /**
   * Insert the job already claimed by this worker (running, attempt 1, leased until leaseUntil): the
   * direct handoff to an idle worker in the same process, one statement instead of an insert and a claim.
   */
  claimedBy?: { workerId: string; leaseUntil: number };
  /** The producer's trace context as JSON (tracing.ts), or null. */
  traceContext?: string | null;
  /** A flow child's failure policy (enqueueFlow only). */
  onFailure?: ChildFailurePolicy;
  /** The key per-key limits count this job by (add(..., { concurrencyKey })), or null. */
  concurrencyKey?: string | null;
}

export interface ClaimParams {
  names: string[];
  limit: number;
  workerId: string;
  leaseMs: number;
  now: number;
  finish?: Outcome[];
  /**
   * Names claimed through the limit-aware claim (a pause or limits set): inside the claim's transaction it
   * reads their control rows (PostgreSQL: locked FOR UPDATE, so concurrent claims of a name queue up and
   * none overshoots), the jobs they run per name and key, and their rate state; takes what every limit
   * allows, round-robin across concurrency keys; writes the rate state back. Taken before `names` (the
   * plain claim, unchanged), up to `limit` in all.
   */
  limited?: string[];
}

export interface ClaimResult extends FinishResult {
  /** The jobs now held by the worker, in claim order. */
  jobs: Job[];
  /** When a rate limit held limited jobs back: the earliest time (epoch ms) it allows a start again. */
  retryAt?: number;
}

/** What a batch of outcomes did. */
export interface FinishResult {
  /** Ids of outcomes that applied (the worker still held the job). */
  finished: string[];
  /** Ids among `finished` of 'retry' or 'released' outcomes stored as cancelled: a cancel had been requested. */
  cancelled: string[];
  /**
   * Flow parents the batch made runnable (its children all finished). Set by stores whose own process does
   * not hear its changes on the feed (SQLite), so the worker looks for work at once; absent means none or unknown.
   */
  parentsReady?: number;
}

export interface TickParams {
  workerId: string;
  leaseMs: number;
  now: number;
  running: string[];
  /** Latest progress per job, JSON text; only jobs whose progress changed since the last tick. */
  progress: { id: string; json: string }[];
}

export interface TickResult {
  cancelled: string[];
  lost: string[];
}

/** What became of one attempt. `progressJson` carries progress not yet written by a tick. */
export type Outcome =
  | { id: string; status: 'completed'; resultJson: string; progressJson?: string }
  | { id: string; status: 'retry'; runAt: number; error: string; errorStack: string | null; progressJson?: string }
  | { id: string; status: 'failed'; error: string; errorStack: string | null; progressJson?: string }
  | { id: string; status: 'cancelled'; error: string | null; progressJson?: string }
  /** Back to pending without burning the attempt (graceful shutdown). */
  | { id: string; status: 'released'; progressJson?: string };

/** Which jobs a page, count or bulk action covers. `data`: JSON containment (PostgreSQL's jsonb @>). */
export interface JobFilter {
  status?: JobStatus;
  name?: string;
  data?: Record<string, unknown>;
}

export interface PageParams {
  filter: JobFilter;
  /** The page starts below this id; none: from the newest. */
  cursor?: string;
  limit: number;
  /** With `filter.data`: ids examined at most below the cursor. */
  scan: number;
}

/** What a bulk action does to each matching job: retry failed/cancelled, cancel pending/running (running: a request), delete. */
export type BulkOp = 'retry' | 'cancel' | 'delete';

export interface BulkParams {
  op: BulkOp;
  filter: JobFilter;
  cursor?: string;
  limit: number;
  scan: number;
  now: number;
}

export interface BulkResult {
  /** The jobs the chunk changed, with their status before and after (null after: deleted). */
  changed: { id: string; name: string; from: JobStatus; to: JobStatus | null }[];
  nextCursor: string | null;
}

export interface ListFilter {
  status?: JobStatus;
  name?: string;
  limit: number;
  offset: number;
  /** Id of the last job of the previous page: the next page starts below it. */
  cursor?: string;
}

export interface StoreStats {
  statements: number;
  roundTrips: number;
  byMethod: Record<string, number>;
}

/**
 * One schedule as stored (times epoch ms). `firedThrough` is the watermark: every fire time at or before it
 * has been dealt with (a job added, or dropped by the missed policy); it only moves forward, by compare-and-set.
 */
export interface ScheduleRow {
  key: string;
  cron: string | null;
  tz: string | null;
  every: number | null;
  name: string;
  dataJson: string;
  /** Options of each job a fire adds (priority, maxAttempts, backoff, timeout) as JSON. */
  optionsJson: string;
  missed: 'skip' | 'latest' | 'all';
  paused: boolean;
  /** Where `every` intervals count from: when the spec was first declared (or last changed). */
  anchorAt: number;
  firedThrough: number;
  lastRunAt: number | null;
  /** The next fire time after firedThrough (null: never again); what "due" is read by. */
  nextRunAt: number | null;
  /** Bumped when the spec (cron, tz, every) changes: a fire computed from the old spec then fails its compare-and-set. */
  revision: number;
}

/** One schedule's fires to write: applies only if the row still has `revision` and `firedThrough`. */
export interface ScheduleFire {
  key: string;
  revision: number;
  firedThrough: number;
  newFiredThrough: number;
  lastRunAt: number | null;
  nextRunAt: number | null;
  /** The jobs of the fires (each with uniqueKey `schedule:<key>:<fire ms>`). */
  jobs: NewJob[];
}

/** The schedule methods of a store; each one statement (schedulesFire: one short transaction). */
export interface ScheduleStore {
  /** Creates the schedule, or updates its job and policy; a changed spec also bumps revision, re-anchors and moves the watermark to `now`. */
  scheduleUpsert(p: { row: ScheduleRow; now: number }): Promise<ScheduleRow>;
  /** All schedules by key, or the one of `key`. */
  schedules(p: { key?: string }): Promise<ScheduleRow[]>;
  /** Pauses, or resumes with the watermark at `now` (fires during the pause are dropped) and `nextRunAt`. Null: no such key. */
  schedulePause(p: { key: string; paused: boolean; now: number; nextRunAt: number | null }): Promise<ScheduleRow | null>;
  /** Removes a schedule; false when there was none. Jobs it added stay. */
  scheduleDelete(p: { key: string }): Promise<boolean>;
  /**
   * Unpaused schedules of `names` due at `now` (next_run_at ≤ now, earliest first, at most `limit`), and the
   * earliest next_run_at of the others (null: none). One indexed statement.
   */
  schedulesDue(p: { names: string[]; now: number; limit: number }): Promise<{ due: ScheduleRow[]; nextAt: number | null }>;
  /**
   * One short transaction: advances each schedule's watermark by compare-and-set (revision and firedThrough
   * unchanged), then inserts the jobs of the schedules whose set applied. Returns those keys and the job ids.
   */
  schedulesFire(p: { fires: ScheduleFire[]; now: number }): Promise<{ fired: string[]; jobIds: string[] }>;
  /**
   * The earliest runAt after `now` of a pending job of `names`, and the earliest next fire of an unpaused
   * schedule of `names` (null: none); one indexed read.
   */
  nextDueAt(p: { names: string[]; now: number }): Promise<{ job: number | null; schedule: number | null }>;
  /** Deletes up to `limit` jobs of `status` beyond the newest `keep` of it, oldest first; returns how many. */
  pruneKeep(p: { status: JobStatus; keep: number; limit: number }): Promise<number>;
}
