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
  /** Spool's tables in the schema: their storage options (autovacuum_*) and what autovacuum has done. */
  tables?: TableFacts[];
  maxConnections?: number;
  /** Connections only superusers (and pg_use_reserved_connections members) may take. */
  reservedConnections?: number;
  /** Client connections open now, Spool's included. */
  connectionsInUse?: number;
  /** Of those, Spool's for this schema (application_name spool/<schema>…). */
  spoolConnections?: number;
  expiredLeases?: number;
}

/** One PostgreSQL table and its vacuum state. */
export interface TableFacts {
  name: string;
  options: Record<string, string>;
  liveRows: number;
  deadRows: number;
  lastAutovacuum: Date | null;
}

export type DatabaseFacts = SqliteFacts | PostgresFacts;

/**
 * The indexes a list of migrations leaves behind, read from their SQL so the list can never drift from the
 * migrations: CREATE INDEX adds; DROP INDEX, and DROP TABLE of its table, remove; ALTER INDEX … RENAME TO and
 * ALTER TABLE … RENAME TO are followed.
 */
export function indexesCreatedBy(migrations: readonly string[]): ExpectedIndex[] {
  const indexes = new Map<string, ExpectedIndex & { table: string }>();
  const ident = (raw: string) => raw.trim().split('.').pop()!.replace(/"/g, '');
  for (const migration of migrations) {
    for (const raw of migration.replace(/--[^\n]*/g, '').split(';')) {
      const sql = raw.trim().replace(/\s+/g, ' ');
      let m: RegExpExecArray | null;
      if ((m = /^CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?([\w".]+) ON (?:ONLY )?([\w".]+)/i.exec(sql))) {
        indexes.set(ident(m[1]!), { name: ident(m[1]!), table: ident(m[2]!), sql: `${sql};` });
      } else if ((m = /^DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?(.+?)(?: CASCADE| RESTRICT)?$/i.exec(sql))) {
        for (const name of m[1]!.split(',')) indexes.delete(ident(name));
      } else if ((m = /^DROP TABLE (?:IF EXISTS )?(.+?)(?: CASCADE| RESTRICT)?$/i.exec(sql))) {
        const tables = new Set(m[1]!.split(',').map(ident));
        for (const [name, index] of indexes) if (tables.has(index.table)) indexes.delete(name);
      } else if ((m = /^ALTER INDEX (?:IF EXISTS )?([\w".]+) RENAME TO ([\w"]+)/i.exec(sql))) {
        const before = indexes.get(ident(m[1]!));
        if (before) {
          indexes.delete(before.name);
          indexes.set(ident(m[2]!), { ...before, name: ident(m[2]!), sql: before.sql.replace(before.name, ident(m[2]!)) });
        }
      } else if ((m = /^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?([\w".]+) RENAME TO ([\w"]+)/i.exec(sql))) {
        for (const index of indexes.values()) if (index.table === ident(m[1]!)) index.table = ident(m[2]!);
      }
    }
  }
  return [...indexes.values()].map(({ name, sql }) => ({ name, sql }));
}
