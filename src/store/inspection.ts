/**
 * What `spool doctor` learns about a database, read without opening a queue (so nothing is migrated or
 * written). Each driver's inspect.ts gathers the facts with read-only statements; the CLI judges them.
 */

/** An index the migrations create, with the statement that creates it (doctor prints it as the fix). */
export interface ExpectedIndex {
  name: string;
  sql: string;
}

/** An index found in the database. */
export interface FoundIndex {
  name: string;
  /** PostgreSQL: false when a CREATE INDEX CONCURRENTLY failed half-way (the index exists but is unused). */
  valid: boolean;
}

/** Facts about a SQLite file. Fields after `exists` are missing when the file is missing or unreadable. */
export interface SqliteFacts {
  kind: 'sqlite';
  path: string;
  exists: boolean;
  /** Why the file could not be read, when it could not. */
  error?: string;
  sqliteVersion?: string;
  /** Migrations applied to the file (PRAGMA user_version). */
  schemaVersion?: number;
  /** Migrations this version of Spool knows. */
  knownVersion: number;
  hasJobsTable?: boolean;
  journalMode?: string;
  pageSize?: number;
  pageCount?: number;
  freelistCount?: number;
  indexes?: FoundIndex[];
  expectedIndexes: ExpectedIndex[];
  /** Running jobs whose lease ran out: their worker is gone, and the next claim of their name takes them again. */
  expiredLeases?: number;
}

/** Facts about a PostgreSQL database and Spool's schema in it. */
export interface PostgresFacts {
  kind: 'postgres';
  schema: string;
  connected: boolean;
  error?: string;
  serverVersion?: string;
  schemaExists?: boolean;
  schemaVersion?: number;
  knownVersion: number;
  hasJobsTable?: boolean;
  indexes?: FoundIndex[];
  expectedIndexes: ExpectedIndex[];
  /** Server settings autovacuum depends on. */
  autovacuum?: boolean;
  trackCounts?: boolean;
  /** The jobs table: its storage options (autovacuum_*) and what autovacuum has done. */
  jobsTable?: {
    options: Record<string, string>;
    liveRows: number;
    deadRows: number;
    lastAutovacuum: Date | null;
    lastAutoanalyze: Date | null;
  };
  maxConnections?: number;
  /** Connections only superusers (and pg_use_reserved_connections members) may take. */
  reservedConnections?: number;
  /** Client connections open now, Spool's included. */
  connectionsInUse?: number;
  /** Of those, Spool's for this schema (application_name spool/<schema>…). */
  spoolConnections?: number;
  expiredLeases?: number;
}

export type DatabaseFacts = SqliteFacts | PostgresFacts;

/**
 * The indexes a list of migrations leaves behind, read from their SQL (CREATE INDEX, minus DROP INDEX, with
 * ALTER INDEX … RENAME TO followed), so the list can never drift from the migrations.
 */
export function indexesCreatedBy(migrations: readonly string[]): ExpectedIndex[] {
  const indexes = new Map<string, ExpectedIndex>();
  for (const migration of migrations) {
    const statements = migration.replace(/--[^\n]*/g, '').split(';');
    for (const raw of statements) {
      const sql = raw.trim().replace(/\s+/g, ' ');
      const created = /^CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?("?\w+"?\.)?"?(\w+)"?/i.exec(sql);
      if (created) {
        indexes.set(created[2]!, { name: created[2]!, sql: `${sql};` });
        continue;
      }
      const dropped = /^DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?(.+?)(?: CASCADE| RESTRICT)?$/i.exec(sql);
      if (dropped) {
        for (const name of dropped[1]!.split(',')) indexes.delete(name.trim().split('.').pop()!.replace(/"/g, ''));
        continue;
      }
      const renamed = /^ALTER INDEX (?:IF EXISTS )?("?\w+"?\.)?"?(\w+)"? RENAME TO "?(\w+)"?/i.exec(sql);
      if (renamed && indexes.has(renamed[2]!)) {
        const before = indexes.get(renamed[2]!)!;
        indexes.delete(renamed[2]!);
        indexes.set(renamed[3]!, { name: renamed[3]!, sql: before.sql.replace(renamed[2]!, renamed[3]!) });
      }
    }
  }
  return [...indexes.values()];
}
