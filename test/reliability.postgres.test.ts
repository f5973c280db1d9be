import { before } from 'node:test';
import { reliability } from './suites/reliability.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres, withAdmin } from './support/postgres.ts';

before(requirePostgres);
reliability('postgres', async () => {
  const schema = freshSchemaName();
  return {
    url: PG_URL,
    options: { schema, pool: { max: 2 } },
    sql: (text) => withAdmin(async (c) => void (await c.query(text.replaceAll('{schemaLiteral}', `'${schema}'`).replaceAll('{schema}', `"${schema}"`)))),
    cleanup: () => dropSchema(schema),
  };
});
