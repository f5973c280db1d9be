import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { scheduleBehaviour } from './suites/schedules-behaviour.ts';

before(requirePostgres);
scheduleBehaviour('postgres', async () => {
  const schema = freshSchemaName();
  const opened: { close(): Promise<void> }[] = [];
  return {
    open: async (options = {}) => {
      const queue = await openQueue({ url: PG_URL, schema, pool: { max: 3 }, ...options });
      opened.push(queue);
      return queue;
    },
    childEnv: { SPOOL_TEST_URL: PG_URL, SPOOL_TEST_SCHEMA: schema },
    cleanup: async () => {
      await Promise.all(opened.map((q) => q.close()));
      await dropSchema(schema);
    },
  };
});
