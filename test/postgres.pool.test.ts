import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { before, test } from 'node:test';
import type pg from 'pg';
import { openQueue, type Logger, type Queue } from '../src/index.ts';
import type { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { PgWireCounter } from './support/pg-wire-counter.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

/**
 * A queue on a fresh schema with a pool of two, recording every warning and error it logs, talking to
 * PostgreSQL through a counting proxy (statements and connections at the wire). Every statement the store
 * issues is watched where it is issued: its pool.query is wrapped to sample, right after the call, how many
 * statements wait for a connection (pg queues a query synchronously when all `max` connections are busy),
 * and how many of the store's statements were already in flight.
 */
async function setup() {
  const schema = freshSchemaName();
  const problems: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (m) => problems.push(`warn: ${m}`),
    error: (m) => problems.push(`error: ${m}`),
  };
  const target = new URL(PG_URL);
  const wire = new PgWireCounter({ host: target.hostname, port: Number(target.port || 5432) });
  await wire.start();
  const queue = await openQueue({ url: wire.urlFor(PG_URL), schema, pool: { max: 2 }, logger });
  const store = queue.store as PostgresStore;
  const pool = (store as unknown as { pool: pg.Pool }).pool;
  const issued = { statements: 0, waited: 0, peakWaiting: 0, inFlight: 0, peakInFlight: 0, withTwoInFlight: 0 };
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
    issued.statements++;
    if (issued.inFlight >= 2) issued.withTwoInFlight++;
    issued.peakInFlight = Math.max(issued.peakInFlight, ++issued.inFlight);
    const result = query(...args);
    // pg queues every request, and hands queued ones to idle connections on the next tick: the requests
    // beyond the idle connections are the ones that wait for a connection to come free.
    const waiting = Math.max(0, pool.waitingCount - pool.idleCount);
    if (waiting > 0) issued.waited++;
    issued.peakWaiting = Math.max(issued.peakWaiting, waiting);
    return result.finally(() => issued.inFlight--);
  };
  return {
    queue,
    store,
    problems,
    issued,
    wire,
    cleanup: async () => {
      await queue.close();
      await dropSchema(schema);
      await wire.stop();
    },
  };
}

function countCompleted(queue: Queue): () => number {
  let n = 0;
  queue.on('completed', () => n++);
  return () => n;
}

/**
 * A worker has at most three statements in flight (its claim, its finish, its tick), so on a pool of two the
 * third can wait for a connection: at most one statement ever waits, and no more than three are in flight.
 */
function assertBoundedPool(issued: { peakWaiting: number; peakInFlight: number }, wire: PgWireCounter): void {
  assert.ok(issued.peakInFlight <= 3, `${issued.peakInFlight} statements in flight at once: a worker has at most three (claim, finish, tick)`);
  assert.ok(issued.peakWaiting <= 1, `${issued.peakWaiting} statements waited for a connection at once: at most the third of claim, finish and tick may`);
  assert.ok(wire.peakConnections <= 3, `${wire.peakConnections} connections at the wire: the pool of 2 and the listening connection`);
}

before(requirePostgres);

test('pool of 2: ten concurrent deep scans (44 progress calls each) cost at most 3 statements per job at the wire, no pool errors', async (t) => {
  const { queue, store, problems, issued, wire, cleanup } = await setup();
  try {
    const completed = countCompleted(queue);
    const worker = queue.worker({
      'deep-scan': async (_job, ctx) => {
        for (let expert = 1; expert <= 11; expert++) {
          for (let step = 1; step <= 4; step++) {
            ctx.progress({ expert, of: 11, step });
            await delay(10);
          }
        }
        return { findings: 4 };
      },
    // Ticks every 250 ms: each scan lives through one or two (more on a loaded machine), shared by all ten.
    }, { concurrency: 10, progressFlushMs: 250 });
    await worker.start();
    await store.listening();
    await waitFor(() => worker.stats().claims > 0, 'the idle worker to make its first claim');

    const before = store.stats();
    const wireBefore = wire.snapshot();
    const ids = await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: 'deep-scan', data: { repo: `r/${i}` } })));
    await waitFor(() => completed() === 10, 'ten deep scans to complete', 30_000);
    await worker.stop();
    const after = store.stats();
    const wireAfter = wire.snapshot();
    const pooled = { ...issued }; // before the test's own reads below

    const statements = wireAfter.statements - wireBefore.statements;
    const perJob = statements / 10;
    t.diagnostic(`deep scan on PostgreSQL: ${statements} statements at the wire for 10 jobs (${perJob} per job), store counted ${after.statements - before.statements}; by method ${JSON.stringify(diff(before.byMethod, after.byMethod))}; pool: ${JSON.stringify(pooled)}; ${wire.peakConnections} connections`);
    assert.ok(perJob <= 3, `${statements} statements at the wire for 10 deep scans = ${perJob} per job; 440 progress calls`);
    assert.equal(statements, after.statements - before.statements, 'the wire saw exactly what the store counted');
    assert.ok((after.byMethod.tick ?? 0) > 0, 'progress reached the database through ticks while the scans ran');
    for (const job of await Promise.all(ids.map((id) => queue.getJob(id)))) {
      assert.equal(job!.status, 'completed');
      assert.deepEqual(job!.progress, { expert: 11, of: 11, step: 4 });
      assert.deepEqual(job!.result, { findings: 4 });
    }
    assertBoundedPool(pooled, wire);
    assert.deepEqual(problems, []);
  } finally {
    await cleanup();
  }
});

test('pool of 2: a thousand concurrent short jobs complete with no pool errors; listJobs of 100 is one statement at the wire', async (t) => {
  const { queue, store, problems, issued, wire, cleanup } = await setup();
  try {
    const completed = countCompleted(queue);
    let running = 0;
    let peakRunning = 0;
    const worker = queue.worker({
      short: async () => {
        peakRunning = Math.max(peakRunning, ++running);
        await delay(200);
        running--;
      },
    }, { concurrency: 1000 });
    await worker.start();
    await queue.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: 'short', data: { i } })));
    await waitFor(() => completed() === 1000, 'a thousand short jobs to complete', 60_000);
    await worker.stop();
    t.diagnostic(`1,000 jobs of 200 ms, concurrency 1,000, pool of 2: ${JSON.stringify(issued)}; ${wire.peakConnections} connections at the wire`);
    assert.ok(peakRunning >= 500, `jobs ran concurrently (peak ${peakRunning})`);
    assert.equal((await queue.counts()).completed, 1000);
    assertBoundedPool(issued, wire);
    assert.ok(issued.statements < 200, `${issued.statements} statements for 1,000 jobs: batched, not per job`);
    assert.equal(store.poolStats().waiting, 0);
    assert.deepEqual(problems, []);

    const before = store.stats();
    const wireBefore = wire.snapshot();
    const page = await queue.listJobs({ limit: 100 });
    const after = store.stats();
    assert.equal(page.length, 100);
    assert.equal(after.statements - before.statements, 1);
    assert.equal(after.roundTrips - before.roundTrips, 1);
    assert.deepEqual(wire.snapshot(), { statements: wireBefore.statements + 1, roundTrips: wireBefore.roundTrips + 1 }, 'one statement, one round trip at the wire');
    const next = await queue.listJobs({ limit: 100, cursor: page[99]!.id, status: 'completed' });
    assert.equal(Number(next[0]!.id), Number(page[99]!.id) - 1);
  } finally {
    await cleanup();
  }
});

function diff(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
}
