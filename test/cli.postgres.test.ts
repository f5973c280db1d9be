import { cliSuite } from './suites/cli-commands.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres, withAdmin } from './support/postgres.ts';

cliSuite('PostgreSQL', async () => {
  await requirePostgres();
  const schema = freshSchemaName();
  return {
    target: { url: PG_URL, schema },
    anIndex: `${schema}.jobs_name_id`,
    sql: (statement) => withAdmin(async (c) => void (await c.query(statement))),
    cleanup: () => dropSchema(schema),
  };
});
