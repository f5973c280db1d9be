import { join } from 'node:path';
import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { tempDir } from './support/sqlite.ts';
import { serverFuzz } from './suites/server-fuzz.ts';

/** Runs per store and server variant; FUZZ_RUNS for longer runs (the seed is printed on failure). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

before(requirePostgres);

serverFuzz('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  // queue.close() is the suite's; cleanup removes the file.
  return { queue: await openQueue(`sqlite:${join(dir, 'spool.db')}`), cleanup: async () => cleanup() };
}, RUNS);

serverFuzz('postgres', async () => {
  const schema = freshSchemaName();
  return { queue: await openQueue({ url: PG_URL, schema, pool: { max: 2 } }), cleanup: () => dropSchema(schema) };
}, Math.ceil(RUNS / 2));
