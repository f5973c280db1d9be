import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { migrate, SCHEMA_VERSION } from '../src/store/postgres/schema.ts';
import type { NewJob } from '../src/store/store.ts';
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

test('migration 2 carries every job of a one-table schema over to the live and finished tables, ids and all', async () => {
  const schema = freshSchemaName();
  const T0 = Date.UTC(2030, 0, 1);
  const job = (name: string, extra: Partial<NewJob> = {}): NewJob => ({
    name, dataJson: `{"of":"${name}"}`, priority: 0, runAt: T0, maxAttempts: 3, backoff: null, timeout: null, uniqueKey: null, ...extra,
  });
  try {
    // Version 1, filled through the statements of that version (written here as plain SQL on its one table).
    await withAdmin((c) => migrate(c, schema, 1));
    const v1 = await withAdmin(async (c) => {
      const insert = async (name: string, status: string, extra = '') => (await c.query(
        `INSERT INTO "${schema}".jobs (name, data, status, max_attempts, run_at, created_at, attempts, unique_key, result, completed_at, processing_by, lease_until)
         VALUES ($1, $2, $3, 3, to_timestamp(${T0 / 1000}), to_timestamp(${T0 / 1000}), $4, $5, $6, $7, $8, $9) RETURNING id::text ${extra}`,
        [name, JSON.stringify({ of: name }), status, status === 'pending' ? 0 : 1, name === 'keyed' ? 'k1' : null,
          status === 'completed' ? '{"ok":true}' : null, ['completed', 'failed', 'cancelled'].includes(status) ? new Date(T0 + 5) : null,
          status === 'pending' ? null : 'w-old', status === 'running' ? new Date(T0 + 30_000) : null],
      )).rows[0].id as string;
      const ids = {
        pending: await insert('pending', 'pending'),
        keyed: await insert('keyed', 'pending'),
        running: await insert('running', 'running'),
        completed: await insert('completed', 'completed'),
        failed: await insert('failed', 'failed'),
        cancelled: await insert('cancelled', 'cancelled'),
        deletedLast: await insert('gone', 'pending'),
      };
      await c.query(`DELETE FROM "${schema}".jobs WHERE id = $1`, [ids.deletedLast]);
      return ids;
    });

    const store = await PostgresStore.open({ url: PG_URL, schema });
    try {
      assert.equal(store.migrationsApplied, SCHEMA_VERSION - 1);
      const where = await withAdmin(async (c) => (await c.query(
        `SELECT 'live' AS t, id::text, status FROM "${schema}".jobs_live UNION ALL SELECT 'done', id::text, status FROM "${schema}".jobs_done ORDER BY id`,
      )).rows);
      assert.deepEqual(where.map((r) => [r.t, r.status]), [
        ['live', 'pending'], ['live', 'pending'], ['live', 'running'], ['done', 'completed'], ['done', 'failed'], ['done', 'cancelled'],
      ]);
      const completed = (await store.get(v1.completed))!;
      assert.deepEqual([completed.status, completed.result, completed.data, completed.completedAt?.getTime()], ['completed', { ok: true }, { of: 'completed' }, T0 + 5]);
      assert.equal((await store.get(v1.running))!.processingBy, 'w-old');
      assert.deepEqual((await store.counts({})), { pending: 2, running: 1, completed: 1, failed: 1, cancelled: 1 });

      // New ids continue after the highest ever handed out (the deleted job's included), and keys still hold.
      const [fresh, again] = await store.enqueue({ jobs: [job('fresh'), job('keyed', { uniqueKey: 'k1' })], now: T0 });
      assert.ok(BigInt(fresh!) > BigInt(v1.deletedLast), `new id ${fresh} after ${v1.deletedLast}`);
      assert.equal(again, v1.keyed);

      // The carried-over jobs behave: a pending one runs to completion, a failed one can be retried.
      const { jobs } = await store.claim({ names: ['pending'], limit: 5, workerId: 'w', leaseMs: 1000, now: T0 });
      assert.deepEqual(jobs.map((j) => j.id), [v1.pending]);
      assert.deepEqual(await store.finish({ workerId: 'w', now: T0 + 1, outcomes: [{ id: v1.pending, status: 'completed', resultJson: '1' }] }), { finished: [v1.pending], cancelled: [] });
      assert.equal((await store.transition({ id: v1.failed, op: 'retry', now: T0 }))!.status, 'pending');
      assert.deepEqual((await store.list({ limit: 3, offset: 0 })).map((j) => j.id), [fresh, v1.cancelled, v1.failed]);
    } finally {
      await store.close();
    }
  } finally {
    await dropSchema(schema);
  }
});
