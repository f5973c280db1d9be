import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { SCHEMA_VERSION } from '../src/store/postgres/schema.ts';
import { killAll, spawnFixture } from './support/children.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres, withAdmin } from './support/postgres.ts';


before(requirePostgres);

test('twenty processes opening the same fresh schema at once: migrations run once, no errors', async () => {
  const schema = freshSchemaName();
  const openers = Array.from({ length: 20 }, () => spawnFixture('pg-open.ts', { SPOOL_TEST_URL: PG_URL, SPOOL_TEST_SCHEMA: schema }));
  try {
    // All twenty load first, then open together: the race is on the database, not on node's start-up.
    await Promise.all(openers.map((o) => o.waitForLine((l) => l === 'loaded', 'loaded', 60_000)));
    for (const o of openers) o.child.stdin!.write('go\n');
    const applied = await Promise.all(openers.map(async (o) => Number((await o.waitForLine((l) => l.startsWith('applied '), 'applied', 60_000)).split(' ')[1])));
    const codes = await Promise.all(openers.map((o) => o.exitWithin()));

    assert.deepEqual(codes, openers.map(() => 0));
    assert.deepEqual(openers.map((o) => o.stderr()).filter(Boolean), [], 'no process reported an error');
    assert.equal(applied.reduce((a, b) => a + b, 0), SCHEMA_VERSION, 'the migrations were applied once in all');
    assert.equal(applied.filter((n) => n > 0).length, 1, 'by one process');
    const versions = await withAdmin(async (c) => (await c.query(`SELECT version FROM "${schema}".migrations ORDER BY version`)).rows);
    assert.deepEqual(versions.map((r) => r.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  } finally {
    await killAll(openers);
    await dropSchema(schema);
  }
});
