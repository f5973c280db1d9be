import type Database from 'better-sqlite3';
import { type ExpectedIndex, indexesCreatedBy } from '../inspection.ts';

/**
 * Migrations, applied in order on open; `PRAGMA user_version` records how many ran. Each runs inside
 * one IMMEDIATE transaction, so processes opening a fresh file together apply it once.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE spool_jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL,
    data             TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    backoff          TEXT,
    timeout_ms       INTEGER,
    progress         TEXT,
    result           TEXT,
    error            TEXT,
    error_stack      TEXT,
    run_at           INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    completed_at     INTEGER,
    processing_by    TEXT,
    lease_until      INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    unique_key       TEXT
  ) STRICT;

  -- The hot set: only pending rows, in claim order. Finished rows never enter it, so a table of
  -- millions of completed jobs claims as fast as an empty one.
  CREATE INDEX spool_jobs_runnable ON spool_jobs (priority DESC, run_at, id) WHERE status = 'pending';
  -- At most one pending or running job per unique key.
  CREATE UNIQUE INDEX spool_jobs_unique_key ON spool_jobs (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('pending', 'running');
  -- Listing newest first, filtered by status or by name: one index range scan per page.
  CREATE INDEX spool_jobs_status_id ON spool_jobs (status, id);
  CREATE INDEX spool_jobs_name_id ON spool_jobs (name, id);
  `,
  // The change journal, the exact counters it feeds, and what a statement needs to tell which transition it
  // made (see journal.ts). prev_status: SQLite's RETURNING sees only new values, so the statements whose
  // rows may come from more than one status (claim: pending or lease-expired running; retry: failed or
  // cancelled) copy the old status here, as its index in JOB_STATUSES, and return it.
  `
  ALTER TABLE spool_jobs ADD COLUMN prev_status INTEGER;

  CREATE TABLE spool_changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    events TEXT    NOT NULL,
    deltas TEXT
  ) STRICT;

  -- Counters the write transactions keep exact (one journal row each; the trigger adds its deltas): jobs per
  -- name and status (kind 0, key = index in JOB_STATUSES), jobs completed (1) and failed for good (2) per
  -- minute (key = epoch ms / 60000), when a name was last claimed (3, n = epoch ms). See journal.ts.
  CREATE TABLE spool_counters (
    kind INTEGER NOT NULL,
    key  INTEGER NOT NULL,
    name TEXT    NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (kind, key, name)
  ) STRICT, WITHOUT ROWID;

  CREATE TRIGGER spool_changes_apply AFTER INSERT ON spool_changes WHEN new.deltas IS NOT NULL BEGIN
    INSERT INTO spool_counters (name, kind, key, n)
      SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(new.deltas) WHERE true
      ON CONFLICT DO UPDATE SET n = iif(kind = 3, max(n, excluded.n), n + excluded.n);
  END;

  INSERT INTO spool_counters (kind, key, name, n)
    SELECT 0, CASE status WHEN 'pending' THEN 0 WHEN 'running' THEN 1 WHEN 'completed' THEN 2 WHEN 'failed' THEN 3 ELSE 4 END,
           name, count(*)
      FROM spool_jobs GROUP BY name, status;
  `,
  // Attempt history (job.errors): the last 20 failed attempts as a JSON array, appended by the statements
  // that record each failure (FINISH for errors and timeouts, CLAIM for a lease that expired).
  `
  ALTER TABLE spool_jobs ADD COLUMN errors TEXT;
  `,
  // The producer's trace context (W3C traceparent/tracestate as JSON), written by the insert when the
  // application traces with OpenTelemetry; NULL (no bytes) otherwise.
  `
  ALTER TABLE spool_jobs ADD COLUMN trace_context TEXT;
  `,
  // Flows (src/flows): a child's parent and its failure policy; a parent's children in all and not yet
  // finished. A waiting parent is pending with run_at = FLOW_WAIT_AT, so no claim takes it. The index is
  // partial: a plain job writes no entry in it; (parent_id, status) counts a parent's unfinished children
  // from the index alone.
  `
  ALTER TABLE spool_jobs ADD COLUMN parent_id INTEGER;
  ALTER TABLE spool_jobs ADD COLUMN on_failure TEXT;
  ALTER TABLE spool_jobs ADD COLUMN children_total INTEGER;
  ALTER TABLE spool_jobs ADD COLUMN children_left INTEGER;
  CREATE INDEX spool_jobs_parent ON spool_jobs (parent_id, status) WHERE parent_id IS NOT NULL;
  `,
  // Flow control (src/limits/): pause and limits per job name, the state of rate limits per name and per
  // concurrency key, and the key a job's per-key limits count by. Keyed pending jobs get a partial index of
  // their own (round-robin across keys), which unkeyed jobs never enter: the plain claim writes nothing more.
  `
  ALTER TABLE spool_jobs ADD COLUMN concurrency_key TEXT;
  CREATE INDEX spool_jobs_keyed ON spool_jobs (name, concurrency_key, priority DESC, run_at, id)
    WHERE status = 'pending' AND concurrency_key IS NOT NULL;

  CREATE TABLE spool_controls (
    name                     TEXT    PRIMARY KEY,
    paused                   INTEGER NOT NULL DEFAULT 0,
    concurrency              INTEGER,
    per_key_concurrency      INTEGER,
    rate_max                 INTEGER,
    rate_interval_ms         INTEGER,
    per_key_rate_max         INTEGER,
    per_key_rate_interval_ms INTEGER,
    rate_state               TEXT,
    updated_at               INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE spool_key_states (
    name       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    rate_state TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (name, key)
  ) STRICT, WITHOUT ROWID;
  `,
  // Schedules (src/schedules/): one row each, fired by workers with a compare-and-set of fired_through (no
  // leader). Pending jobs by name and run_at: a drained worker's one read of when its next delayed job is due
  // (Store.nextDueAt); partial, so claims and finishes never write it.
  `
  CREATE TABLE spool_schedules (
    key           TEXT    PRIMARY KEY,
    cron          TEXT,
    tz            TEXT,
    every_ms      INTEGER,
    name          TEXT    NOT NULL,
    data          TEXT    NOT NULL,
    options       TEXT    NOT NULL,
    missed        TEXT    NOT NULL,
    paused        INTEGER NOT NULL DEFAULT 0,
    anchor_at     INTEGER NOT NULL,
    fired_through INTEGER NOT NULL,
    last_run_at   INTEGER,
    next_run_at   INTEGER,
    revision      INTEGER NOT NULL DEFAULT 1
  ) STRICT;
  CREATE INDEX spool_schedules_due ON spool_schedules (next_run_at) WHERE paused = 0;
  CREATE INDEX spool_jobs_pending_name_run_at ON spool_jobs (name, run_at) WHERE status = 'pending';
  `,
];

/** How many migrations this version of Spool knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The indexes the migrations create (what `spool doctor` expects to find). */
export function expectedIndexes(): ExpectedIndex[] {
  return indexesCreatedBy(MIGRATIONS);
}

/** Brings the file's schema up to date; safe to call from many processes at once. */
export function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let version = current; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version]!);
    }
    if (current < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply.immediate();
}
