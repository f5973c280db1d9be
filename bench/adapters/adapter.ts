/**
 * The seam between the workloads and the systems measured. One adapter per system; each `open()` gives a
 * fresh queue (own SQLite file, PostgreSQL schema or Redis prefix) that `close()` removes again.
 */

/** What a handler sees, whatever the system. */
export interface BenchJob {
  id: string;
  name: string;
  data: { i: number; sentAt?: number };
}

/**
 * A job handler: `progress` is the system's own progress call (Spool: ctx.progress, BullMQ: job.updateProgress)
 * or, for systems without one, what their users do: one row update per call.
 */
export type BenchHandler = (job: BenchJob, progress: (value: unknown) => Promise<void> | void) => Promise<void> | void;

/** What a system sent to its database so far, counted the way the adapter says in `counting`. */
export interface Traffic {
  statements: number;
  roundTrips: number | null;
}

/** One fresh queue of one system, in one variant (settings). */
export interface Session {
  add(name: string, data: BenchJob['data']): Promise<void>;
  /** `concurrencyKey`: the key per-key limits count by (W3K; Spool only). */
  addBulk(jobs: { name: string; data: BenchJob['data']; concurrencyKey?: string }[]): Promise<void>;
  /** Sets a job name's limits (W3L, W3K); only systems that run those workloads have it. */
  setLimits?(name: string, limits: { concurrency?: number; perKeyConcurrency?: number }): Promise<void>;
  /** Adds one flow: a parent of `parent` and these children, in one call (systems with flows only; W3F). */
  addFlow?(parent: string, children: { name: string; data: BenchJob['data'] }[]): Promise<void>;
  /** Starts one worker (or the system's equivalent) for `names` at `concurrency`. */
  startWorker(names: string[], handler: BenchHandler, concurrency: number): Promise<void>;
  stopWorker(): Promise<void>;
  /** Jobs of `name` the store shows as completed (for systems that delete finished jobs: added minus left). */
  completed(name: string, added: number): Promise<number>;
  /**
   * Jobs of `name` the store shows as not finished yet (waiting or running), by a query that stays cheap
   * however many finished jobs the table holds: what stops the drain clock (W3, W7). A count over all of
   * a name's jobs would take longer on W7's big table and bias W7 against W3.
   */
  unfinished(name: string): Promise<number>;
  /** Lists the first `limit` jobs of `name` the way the system's users do; returns how many came back. */
  list(name: string, limit: number): Promise<number>;
  /**
   * Lists like list() once more and says what that sent, where the session's own traffic() cannot (it is not
   * counting) and the listing is more than one query of the adapter's own: counted at the wire.
   */
  listTraffic?(name: string, limit: number): Promise<Traffic>;
  /** Puts `n` finished jobs of `name` into the store directly (not through the API), fast. */
  seedFinished(name: string, n: number): Promise<void>;
  /** Statements (Redis: write commands) and round trips so far; null when this session does not count. */
  traffic(): Promise<Traffic | null>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Count statements (through the wire counter where the system has no counter of its own). */
  count: boolean;
}

/** A variant of a system: a named set of settings. */
export interface Variant {
  id: string;
  /** Workloads this variant runs; default all of the adapter's. Speed settings only matter where workers run. */
  workloads?: readonly string[];
  /** The settings this variant uses, said in words for the report. */
  settings: string;
}

export interface Adapter {
  /** e.g. 'spool-sqlite' */
  id: string;
  label: string;
  /** Where it keeps jobs: decides how counts are read (Redis: write commands) and how the report groups it. */
  store: 'sqlite' | 'postgres' | 'redis';
  /** Which workloads this adapter runs (floors only drain). */
  workloads: readonly string[];
  variants: readonly Variant[];
  /** How this adapter counts statements (for the report). */
  counting: string;
  /** How this adapter reports progress and lists jobs (for the report). */
  notes: string;
  /**
   * Checks the system can run here; resolves to a reason to skip it, or null. Only for a reason the
   * brief allows (spool-postgres before the PostgreSQL store lands); anything else throws.
   */
  unavailable?(): Promise<string | null>;
  open(variant: Variant, options: OpenOptions): Promise<Session>;
}
