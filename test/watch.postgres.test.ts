import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { watchBehaviour } from './suites/watch-behaviour.ts';

before(requirePostgres);

watchBehaviour('postgres', async () => {
  const schema = freshSchemaName();
  return {
    url: PG_URL,
    schema,
    open: (options = {}) => openQueue({ url: PG_URL, schema, pool: { max: 2 }, ...options }),
    cleanup: () => dropSchema(schema),
  };
});
