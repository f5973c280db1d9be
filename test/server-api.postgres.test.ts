import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { serverApi } from './suites/server-api.ts';

before(requirePostgres);

serverApi('postgres', async () => {
  const schema = freshSchemaName();
  const queue = await openQueue({ url: PG_URL, schema, pool: { max: 2 } });
  return { queue, cleanup: async () => { await queue.close(); await dropSchema(schema); } };
});
