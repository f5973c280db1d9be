import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { typedJobsBehaviour } from './suites/typed-jobs-behaviour.ts';

before(requirePostgres);
typedJobsBehaviour('postgres', async () => {
  const schema = freshSchemaName();
  return { open: () => openQueue({ url: PG_URL, schema, pool: { max: 4 } }), cleanup: () => dropSchema(schema) };
});
