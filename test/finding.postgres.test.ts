import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { findingBehaviour } from './suites/finding-behaviour.ts';

before(requirePostgres);

findingBehaviour('postgres', async () => {
  const schema = freshSchemaName();
  return { queue: await openQueue({ url: PG_URL, schema, pool: { max: 3 } }), cleanup: () => dropSchema(schema) };
});
