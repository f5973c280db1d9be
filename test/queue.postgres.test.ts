import { before } from 'node:test';
import { openQueue } from '../src/index.ts';
import { PgWireCounter } from './support/pg-wire-counter.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { queueBehaviour } from './suites/queue-behaviour.ts';

before(requirePostgres);
queueBehaviour('postgres', async () => {
  const schema = freshSchemaName();
  // Every queue talks to PostgreSQL through a counting proxy: statement counts are asserted at the wire too.
  const target = new URL(PG_URL);
  const wire = new PgWireCounter({ host: target.hostname, port: Number(target.port || 5432) });
  await wire.start();
  return {
    open: (options = {}) => openQueue({ url: wire.urlFor(PG_URL), schema, pool: { max: 2 }, ...options }),
    wire: { statements: () => wire.statements },
    childEnv: { SPOOL_TEST_URL: PG_URL, SPOOL_TEST_SCHEMA: schema },
    cleanup: async () => {
      await dropSchema(schema);
      await wire.stop();
    },
  };
});
