import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { openQueue } from '../src/index.ts';
import type { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { MAX_UNCONFIRMED } from '../src/worker/outcome-batcher.ts';
import { recordingLogger } from './suites/reliability.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

before(requirePostgres);

/** A queue on a fresh schema, pool of 2, logging into `logger.lines`. */
async function setup() {
  const schema = freshSchemaName();
  const logger = recordingLogger();
  const queue = await openQueue({ url: PG_URL, schema, pool: { max: 2 }, logger });
  const admin = new pg.Client({ connectionString: PG_URL, application_name: 'spool-test-admin' });
  admin.on('error', () => {});
  await admin.connect();
  return {
    schema,
    queue,
    store: queue.store as PostgresStore,
    logger,
    admin,
    async teardown() {
      await admin.end().catch(() => {});
      await queue.close();
      await dropSchema(schema);
    },
  };
}

test('a finish held by another transaction\'s row lock: the worker pauses claiming at 1,000 unwritten outcomes, then writes them all', async (t) => {
  const { schema, queue, admin, teardown } = await setup();
  try {
    let returned = 0;
    const concurrency = 25;
    const worker = queue.worker({ quick: () => void returned++ }, { concurrency, pollMs: 50 });
    const total = 30_000;
    await queue.addBulk(Array.from({ length: total }, (_, i) => ({ name: 'quick', data: i })));
    await worker.start();
    await waitFor(() => returned >= 100, 'the worker to get going');
    // Lock a row the worker holds: the finish batch that carries it waits, and no other finish can start.
    await admin.query('BEGIN');
    await waitFor(async () => {
      const { rows } = await admin.query(`SELECT id FROM "${schema}".jobs WHERE status = 'running' ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED`);
      return rows.length === 1;
    }, 'a running job to lock');
    await delay(1_500);
    const completed = async () => (await queue.counts()).completed;
    const unwritten = returned - (await completed());
    const held = concurrency + 400; // slots + the prefetch of short jobs
    t.diagnostic(`while a finish was blocked for 1.5 s: ${unwritten} handlers had returned without their outcome written (cap ${MAX_UNCONFIRMED} + ${held} held)`);
    assert.ok(unwritten <= MAX_UNCONFIRMED + held, `${unwritten} outcomes waited unwritten: a crash now would run them all again`);
    await admin.query('ROLLBACK');
    await waitFor(async () => (await completed()) === total, 'every job to complete once the lock is gone', 60_000);
    assert.equal(returned, total, 'each ran once');
  } finally {
    await teardown();
  }
});
