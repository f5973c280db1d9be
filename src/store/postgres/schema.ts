import type pg from 'pg';
import { type ExpectedIndex, indexesCreatedBy } from '../inspection.ts';
import { countersMigration } from './counters.ts';

/**
 * Migrations, applied in order on open; `<schema>.migrations` records which ran. All of them run in one
 * transaction that first takes a transaction-level advisory lock keyed by the schema, so processes opening
 * a fresh database together queue up behind the first, find the work done, and apply nothing.
 * `S` stands for the quoted schema name.
 */
const MIGRATIONS: readonly ((S: string) => string)[] = [
  (S) => `
  CREATE TABLE ${S}.jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text        NOT NULL,
    data             json        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    priority         integer     NOT NULL DEFAULT 0,
    attempts         integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL,
    backoff          json,
    timeout_ms       integer,
    progress         json,
    result           json,
    error            text,
    error_stack      text,
    run_at           timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    completed_at     timestamptz,
    processing_by    text,
    lease_until      timestamptz,
    cancel_requested boolean     NOT NULL DEFAULT false,
    unique_key       text
  ) WITH (
    -- Every job is updated 2-3 times (claim, ticks, finish): dead tuples pile up fast, so vacuum and
    -- analyze at 2 % of the table instead of the default 20 % / 10 %.
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
  );

  -- The hot set: only pending rows, in claim order. Finished rows never enter it, so a table of
  -- millions of completed jobs claims as fast as an empty one.
  CREATE INDEX jobs_runnable ON ${S}.jobs (priority DESC, run_at, id) WHERE status = 'pending';
  -- Running rows by lease end: how a dead worker's jobs are found again.
  CREATE INDEX jobs_leases ON ${S}.jobs (lease_until) WHERE status = 'running';
  -- At most one pending or running job per unique key.
  CREATE UNIQUE INDEX jobs_unique_key ON ${S}.jobs (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('pending', 'running');
  -- Listing newest first, filtered by status or by name: one index range scan per page.
  CREATE INDEX jobs_status_id ON ${S}.jobs (status, id);
  CREATE INDEX jobs_name_id ON ${S}.jobs (name, id);
  `,
  (S) => splitLiveAndDone(S),
  // Pending jobs newest first (the dashboard's pending list over a backlog): without it the planner read every
  // pending job through the pending-name index and sorted them (19 ms for 10,000; O(backlog) per page).
  // Partial, so a claim never writes it; an enqueue writes one more entry, at the index's right edge.
  (S) => `CREATE INDEX jobs_live_pending_id ON ${S}.jobs_live (id) WHERE status = 'pending';`,
  // Attempt history (job.errors): the last 20 failed attempts, appended by the statements that record each
  // failure (the finish's requeued and archived branches, the claim for a lease that expired), carried by moves.
  (S) => `
  ALTER TABLE ${S}.jobs_live ADD COLUMN errors json;
  ALTER TABLE ${S}.jobs_done ADD COLUMN errors json;
  CREATE OR REPLACE VIEW ${S}.jobs AS
    SELECT id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
           error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key, errors
      FROM ${S}.jobs_live
    UNION ALL
    SELECT id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
           error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key, errors
      FROM ${S}.jobs_done;
  `,
  // Exact counters kept per statement (counters.ts): counts, throughput per minute, last claim per name.
  (S) => countersMigration(S),
  // The producer's trace context (W3C traceparent/tracestate) when the application traces; NULL otherwise.
  (S) => `
  ALTER TABLE ${S}.jobs_live ADD COLUMN trace_context json;
  ALTER TABLE ${S}.jobs_done ADD COLUMN trace_context json;
  CREATE OR REPLACE VIEW ${S}.jobs AS
    SELECT id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
           error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key,
           errors, trace_context
      FROM ${S}.jobs_live
    UNION ALL
    SELECT id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
           error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key,
           errors, trace_context
      FROM ${S}.jobs_done;
  `,
  // Flows (src/flows, flow-statements.ts): a child's parent and its failure policy; a parent's children in all
  // and not yet finished. A waiting parent is pending with run_at = FLOW_WAIT_AT, so no claim takes it. The
  // indexes are partial (parent_id IS NOT NULL): a plain job writes no entry in them.
  (S) => `
  ALTER TABLE ${S}.jobs_live ADD COLUMN parent_id bigint, ADD COLUMN on_failure text,
                              ADD COLUMN children_total integer, ADD COLUMN children_left integer;
  ALTER TABLE ${S}.jobs_done ADD COLUMN parent_id bigint, ADD COLUMN on_failure text,
                              ADD COLUMN children_total integer, ADD COLUMN children_left integer;
  CREATE INDEX jobs_live_parent ON ${S}.jobs_live (parent_id) WHERE parent_id IS NOT NULL;
  CREATE INDEX jobs_done_parent ON ${S}.jobs_done (parent_id, status) WHERE parent_id IS NOT NULL;
  CREATE OR REPLACE VIEW ${S}.jobs AS
    SELECT id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
           error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key,
           errors, trace_context, parent_id, on_failure, children_total, children_left
      FROM ${S}.jobs_live
    UNION ALL
    SELECT id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
           error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key,
           errors, trace_context, parent_id, on_failure, children_total, children_left
      FROM ${S}.jobs_done;
  `,
  // Flow control (src/limits/): pause and limits per job name, with the name's rate state; per-key rate
  // states; the key a live job's per-key limits count by. Keyed pending jobs get a partial index of their own
  // (round-robin across keys) that unkeyed jobs never enter, so the plain claim writes nothing more.
  (S) => `
  ALTER TABLE ${S}.jobs_live ADD COLUMN concurrency_key text;
  CREATE INDEX jobs_live_keyed ON ${S}.jobs_live (name, concurrency_key, priority DESC, run_at, id)
    WHERE status = 'pending' AND concurrency_key IS NOT NULL;
  CREATE TABLE ${S}.controls (
    name                     text    PRIMARY KEY,
    paused                   boolean NOT NULL DEFAULT false,
    concurrency              integer,
    per_key_concurrency      integer,
    rate_max                 integer,
    rate_interval_ms         integer,
    per_key_rate_max         integer,
    per_key_rate_interval_ms integer,
    rate_state               text,
    updated_at               float8  NOT NULL
  );
  CREATE TABLE ${S}.key_states (
    name       text   NOT NULL,
    key        text   NOT NULL,
    rate_state text   NOT NULL,
    at         float8 NOT NULL,
    PRIMARY KEY (name, key)
  );
  `,
  // Schedules (src/schedules/): one row each, times as epoch ms, fired by workers with a compare-and-set of
  // fired_through (no leader). Pending jobs by name and run_at: a drained worker's one read of when its next
  // delayed job comes due (Store.nextDueAt); partial on pending, so a claim's new row version never enters it.
  (S) => `
  CREATE TABLE ${S}.schedules (
    key           text    PRIMARY KEY,
    cron          text,
    tz            text,
    every_ms      bigint,
    name          text    NOT NULL,
    data          json    NOT NULL,
    options       json    NOT NULL,
    missed        text    NOT NULL CHECK (missed IN ('skip', 'latest', 'all')),
    paused        boolean NOT NULL DEFAULT false,
    anchor_at     bigint  NOT NULL,
    fired_through bigint  NOT NULL,
    last_run_at   bigint,
    next_run_at   bigint,
    revision      integer NOT NULL DEFAULT 1
  );
  CREATE INDEX schedules_due ON ${S}.schedules (next_run_at) WHERE NOT paused;
  CREATE INDEX jobs_live_pending_name_run_at ON ${S}.jobs_live (name, run_at) WHERE status = 'pending';
  `,
];

/**
 * Migration 2: live jobs and finished jobs in two tables, read together through the view `jobs`.
 *
 * Why (bench/pg-layouts.ts, bench/analysis.md): in one table every job was written three times into a
 * table of millions (insert, claim, completion), each time into every index (11 index entries per job,
 * ≈ 1.1 KB of WAL). Now a job lives in `jobs_live` while it is pending or running, and its completion
 * moves it (DELETE … RETURNING feeding an INSERT, one statement) into `jobs_done`, which only ever gets
 * inserts at its right edge and the deletes of retention. The hot table stays as small as the backlog,
 * and a completion no longer rewrites index entries of a big table: 8 index entries per job, ≈ 0.9 KB of
 * WAL, and the drain is as fast with a million finished jobs present as without.
 *
 * The layout, for whoever adds the next feature (write each change into both tables and the view):
 * - `jobs_live`: pending and running jobs. Its indexes are chosen so that a claim (pending → running,
 *   never a HOT update since status is indexed) inserts into as few as possible: the primary key and
 *   the lease index only. Indexes on pending rows are partial (`WHERE status = 'pending'`): a claim's new
 *   row version is not pending, so PostgreSQL neither inserts into them nor computes their expressions.
 *   Running rows are bounded by the workers' slots and prefetch, so reading them through the lease
 *   index is a bounded scan. Put new indexes for listing or searching pending jobs here the same way.
 * - `jobs_done`: completed, failed and cancelled jobs, append-only; listed by (status, id) and (name, id),
 *   pruned oldest first. Indexes here cost one insertion per finished job and nothing else.
 * - `jobs` (view): both tables, same columns, for reads that do not care where a job is (get by id,
 *   listing newest first: PostgreSQL merges the two tables' id-ordered index scans, LIMIT applied early).
 *   It is not updatable: write to the tables.
 * - ids come from one sequence, `job_ids`, so an id names one job in either table.
 * - Moving a job between the tables is DELETE … RETURNING + INSERT in one statement, never an UPDATE of
 *   status across them (the CHECK constraints refuse that).
 *
 * Where the planned features fit (not built here):
 * - Data containment search (`listJobs({ data })`): a GIN index on `jobs_done` over `(data::jsonb)`
 *   (jsonb_path_ops) and a partial one on `jobs_live` `WHERE status = 'pending'` (claims skip it); running
 *   rows are few and are filtered by scan. `data` stays json: jsonb would cost every claim a jsonb_out
 *   (≈ 0.7 µs a row measured, ≈ 5% of the server's work per job).
 * - Exact counts at 10M jobs: a `job_counts (name, status, n)` table plus an append-only delta table
 *   written by a CTE of each job-moving statement (one row per name and status the batch changed, not
 *   one per job), folded periodically; never an UPDATE of a hot counter row from every worker.
 * - Attempt history (last 20 failures): a json column on both tables, appended to by the `requeued`
 *   branch of the finish (retry) and the `ended` branch (final failure), carried by the move.
 * - Per-name and per-key concurrency and rate limits: conditions of the claim's `due` CTE, with their
 *   state (running counts per key, tokens) in a small table updated by the claim and finish statements
 *   per batch; a key column on `jobs_live` (indexed with `WHERE status = 'pending'` if claims filter on it).
 * - Parent/children flows: `parent_id` on both tables (no foreign key: a row moves between tables); a
 *   parent waits in `jobs_live` with a status of its own (add it to the CHECK and to no pending index), and
 *   the statement that finishes the last child moves it to pending.
 * - Schedules: their own table; a fire inserts into `jobs_live` with a unique key of (schedule, fire
 *   time). The live unique index only spans live jobs, so a schedule must also record its last fire
 *   time (compare-and-set in the same statement) to stay exactly-once after the fire finished.
 */
function splitLiveAndDone(S: string): string {
  const columns = `
    name             text        NOT NULL,
    data             json        NOT NULL,
    status           text        NOT NULL,
    priority         integer     NOT NULL DEFAULT 0,
    attempts         integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL,
    backoff          json,
    timeout_ms       integer,
    progress         json,
    result           json,
    error            text,
    error_stack      text,
    run_at           timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    completed_at     timestamptz,
    processing_by    text,
    lease_until      timestamptz,
    cancel_requested boolean     NOT NULL DEFAULT false,
    unique_key       text`;
  const all = `id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
               error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key`;
  return `
  CREATE SEQUENCE ${S}.job_ids AS bigint;

  CREATE TABLE ${S}.jobs_live (
    id bigint NOT NULL DEFAULT nextval('${S}.job_ids') PRIMARY KEY,${columns},
    CONSTRAINT jobs_live_status CHECK (status IN ('pending', 'running'))
  ) WITH (
    -- Each job leaves two dead row versions here (claim, move out): vacuum at 2 % of the table, not 20 %.
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
  );
  ALTER TABLE ${S}.jobs_live ALTER COLUMN status SET DEFAULT 'pending';
  ALTER SEQUENCE ${S}.job_ids OWNED BY ${S}.jobs_live.id;

  CREATE TABLE ${S}.jobs_done (
    id bigint NOT NULL PRIMARY KEY,${columns},
    CONSTRAINT jobs_done_status CHECK (status IN ('completed', 'failed', 'cancelled'))
  );

  -- Carry the jobs over, and the id sequence on from the old identity, so no id is ever handed out twice.
  INSERT INTO ${S}.jobs_live (${all}) SELECT ${all} FROM ${S}.jobs WHERE status IN ('pending', 'running');
  INSERT INTO ${S}.jobs_done (${all}) SELECT ${all} FROM ${S}.jobs WHERE status NOT IN ('pending', 'running');
  SELECT setval('${S}.job_ids', last_value, is_called) FROM ${S}.jobs_id_seq;
  DROP TABLE ${S}.jobs;

  -- Claim order over the pending rows.
  CREATE INDEX jobs_live_runnable ON ${S}.jobs_live (priority DESC, run_at, id) WHERE status = 'pending';
  -- Running rows by lease end: a dead worker's jobs, found by every claim; and the running rows listed.
  CREATE INDEX jobs_live_leases ON ${S}.jobs_live (lease_until) WHERE status = 'running';
  -- At most one live (pending or running) job per unique key.
  CREATE UNIQUE INDEX jobs_live_unique_key ON ${S}.jobs_live (unique_key) WHERE unique_key IS NOT NULL;
  -- Pending jobs of a name, newest first (a backlog listed by name); claims never write it.
  CREATE INDEX jobs_live_pending_name_id ON ${S}.jobs_live (name, id) WHERE status = 'pending';
  -- Finished jobs listed newest first by status (and pruned oldest first) or by name.
  CREATE INDEX jobs_done_status_id ON ${S}.jobs_done (status, id);
  CREATE INDEX jobs_done_name_id ON ${S}.jobs_done (name, id);

  CREATE VIEW ${S}.jobs AS
    SELECT ${all} FROM ${S}.jobs_live
    UNION ALL
    SELECT ${all} FROM ${S}.jobs_done;
  `;
}

/** How many migrations this version of Spool knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The indexes the migrations create in `schema` (what `spool doctor` expects to find). */
export function expectedIndexes(schema: string): ExpectedIndex[] {
  return indexesCreatedBy(MIGRATIONS.map((m) => m(quoteIdent(schema))));
}

/**
 * Brings the schema up to date on one connection; safe to call from many processes at once.
 * Returns how many migrations this call applied (0 when another process, or an earlier open, did)
 * and how many statements it sent. `target` stops at an older version (tests of a migration use it).
 */
export async function migrate(client: pg.ClientBase, schema: string, target = MIGRATIONS.length): Promise<{ applied: number; statements: number }> {
  const S = quoteIdent(schema);
  let statements = 0;
  const exec = async (text: string, values?: unknown[]) => {
    statements++;
    return client.query(text, values);
  };
  // Fast path, read-only: a current schema needs no lock and no write (so a hot standby can be opened too).
  const { rows: found } = await exec(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${S}.migrations`]);
  if ((found[0] as { present: boolean }).present) {
    const { rows } = await exec(`SELECT coalesce(max(version), 0)::int AS version FROM ${S}.migrations`);
    if ((rows[0] as { version: number }).version >= target) return { applied: 0, statements };
  }
  await exec('BEGIN');
  try {
    // Taken before anything else: concurrent CREATE SCHEMA IF NOT EXISTS would otherwise race on the catalog.
    await exec(`SELECT pg_advisory_xact_lock(hashtext('spool migrations'), hashtext($1))`, [schema]);
    await exec(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await exec(`CREATE TABLE IF NOT EXISTS ${S}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await exec(`SELECT coalesce(max(version), 0)::int AS version FROM ${S}.migrations`);
    const current = (rows[0] as { version: number }).version;
    for (let version = current; version < target; version++) {
      await exec(MIGRATIONS[version]!(S));
      await exec(`INSERT INTO ${S}.migrations (version) VALUES ($1)`, [version + 1]);
    }
    await exec('COMMIT');
    return { applied: Math.max(0, target - current), statements };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Schema names Spool accepts: lower-case SQL identifiers, so they need no quoting anywhere (channels included). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Quotes an identifier for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
