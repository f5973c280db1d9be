import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from '../support/postgres.ts';
import { tempDir } from '../support/sqlite.ts';
import type { ModelDb } from './world.ts';

/** One SQLite file for a whole model run; reset empties every table Spool keeps. */
export async function sqliteModelDb(): Promise<ModelDb> {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'spool.db');
  new SqliteStore({ path }).close(); // creates the tables
  const admin = new Database(path);
  admin.pragma('busy_timeout = 10000');
  // Every table Spool keeps (jobs, and whatever it derives from them: counters, the change journal).
  const tables = (admin.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 6) = 'spool_'`).pluck().all() as string[]);
  const deletes = tables.map((t) => `DELETE FROM "${t}";`).join('\n');
  return {
    kind: 'sqlite',
    openStore: async () => new SqliteStore({ path }),
    reset: async () => void admin.exec(deletes),
    close: async () => {
      admin.close();
      cleanup();
    },
  };
}

/** One PostgreSQL schema for a whole model run; reset empties every table Spool keeps but its migrations. */
export async function postgresModelDb(): Promise<ModelDb> {
  await requirePostgres();
  const schema = freshSchemaName();
  await (await PostgresStore.open({ url: PG_URL, schema, poolMax: 1 })).close();
  const admin = new pg.Client({ connectionString: PG_URL, application_name: 'spool-test-model' });
  await admin.connect();
  const { rows } = await admin.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'migrations'`,
    [schema],
  );
  const deletes = rows.map((r) => `DELETE FROM "${schema}"."${r.table_name}"`).join('; ');
  return {
    kind: 'postgres',
    openStore: (logger) => PostgresStore.open({ url: PG_URL, schema, poolMax: 2, logger }),
    reset: async () => void (await admin.query(deletes)),
    close: async () => {
      await admin.end();
      await dropSchema(schema);
    },
  };
}
