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
