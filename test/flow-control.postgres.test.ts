import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { flowControlBehaviour } from './suites/flow-control.ts';

before(requirePostgres);
flowControlBehaviour('postgres', async () => {
  const schema = freshSchemaName();
  return { open: () => openQueue({ url: PG_URL, schema }), cleanup: () => dropSchema(schema) };
});
