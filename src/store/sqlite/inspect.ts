import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { SqliteFacts } from '../inspection.ts';
import { expectedIndexes, SCHEMA_VERSION } from './schema.ts';

/**
 * Reads what `spool doctor` checks from a SQLite file, read-only: the file is never created, migrated or
 * written. Seven small statements; the lease count reads only running rows (status index).
 */
export function inspectSqlite(path: string, now: number): SqliteFacts {
  const facts: SqliteFacts = { kind: 'sqlite', path, exists: existsSync(path), knownVersion: SCHEMA_VERSION, expectedIndexes: expectedIndexes() };
  if (!facts.exists) return facts;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    facts.sqliteVersion = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    facts.schemaVersion = db.pragma('user_version', { simple: true }) as number;
    facts.journalMode = String(db.pragma('journal_mode', { simple: true }));
    facts.pageSize = db.pragma('page_size', { simple: true }) as number;
    facts.pageCount = db.pragma('page_count', { simple: true }) as number;
    facts.freelistCount = db.pragma('freelist_count', { simple: true }) as number;
    const objects = db.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL").all() as { type: string; name: string }[];
    facts.hasJobsTable = objects.some((o) => o.type === 'table' && o.name === 'spool_jobs');
    facts.indexes = objects.filter((o) => o.type === 'index').map((o) => ({ name: o.name, valid: true }));
    if (facts.hasJobsTable) {
      facts.expiredLeases = (db.prepare("SELECT count(*) AS n FROM spool_jobs WHERE status = 'running' AND lease_until < ?").get(now) as { n: number }).n;
    }
  } catch (error) {
    facts.error = (error as Error).message;
  } finally {
    db?.close();
  }
  return facts;
}
