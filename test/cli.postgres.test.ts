import { expectedIndexes } from '../src/store/postgres/schema.ts';
import { cliSuite } from './suites/cli-commands.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres, withAdmin } from './support/postgres.ts';

cliSuite('PostgreSQL', async () => {
  await requirePostgres();
  const schema = freshSchemaName();
  return {
    target: { url: PG_URL, schema },
    // One the migrations create, whatever they are called today.
    anIndex: `${schema}.${expectedIndexes(schema).at(-1)!.name}`,
    sql: (statement) => withAdmin(async (c) => void (await c.query(statement))),
    cleanup: () => dropSchema(schema),
  };
});
