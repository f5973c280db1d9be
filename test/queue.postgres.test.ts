import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { queueBehaviour } from './suites/queue-behaviour.ts';

before(requirePostgres);
queueBehaviour('postgres', async () => {
  const schema = freshSchemaName();
  return {
    open: (options = {}) => openQueue({ url: PG_URL, schema, pool: { max: 2 }, ...options }),
    cleanup: () => dropSchema(schema),
  };
});
