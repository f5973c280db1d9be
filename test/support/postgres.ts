import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.ts';
import type { StoreFactory } from '../suites/conformance.ts';

/** The server the PostgreSQL tests use: env SPOOL_TEST_PG_URL, default the CI server (trust auth, db test). */
export const PG_URL = process.env.SPOOL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Runs `fn` on a short-lived connection of its own (tests inspect and set up with direct SQL). A missing
 * server fails loudly with what to do; PostgreSQL tests never skip.
 */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, application_name: 'spool-test-admin' });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(
      `PostgreSQL is required by this test and is not reachable at ${PG_URL} (${(cause as Error).message}). ` +
        'Start it (bash .ci/run does) or point SPOOL_TEST_PG_URL at a server where the user may create schemas.',
      { cause },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Fails (never skips) with what to do when the test server is not reachable; PostgreSQL test files call it in before(). */
export async function requirePostgres(): Promise<void> {
  await withAdmin(async (c) => {
    await c.query('SELECT 1');
  });
}

/** A fresh, unused schema name per call, so test files and tests run in parallel without sharing rows. */
export function freshSchemaName(): string {
  return `spool_t_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** Opens a PostgresStore on a fresh schema; `cleanup` closes it and drops the schema. */
export async function openTestStore(options: Omit<PostgresStoreOptions, 'url' | 'schema'> = {}): Promise<{
  store: PostgresStore;
  schema: string;
  cleanup: () => Promise<void>;
}> {
  const schema = freshSchemaName();
  await requirePostgres();
  const store = await PostgresStore.open({ url: PG_URL, schema, ...options });
  return {
    store,
    schema,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
}

/** Store factory for the conformance suite: a fresh schema per test. */
export const postgresStoreFactory: StoreFactory = async () => {
  const { store, cleanup } = await openTestStore();
  return { store, cleanup };
};

/** Polls `predicate` every `everyMs` (default 50 ms, kind to a shared server) until it holds; fails after `timeoutMs`. */
export async function pollUntil(predicate: () => Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
