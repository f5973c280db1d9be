import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { before, test } from 'node:test';
import { openQueue, type Logger, type Queue } from '../src/index.ts';
import type { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

/** A queue on a fresh schema with a pool of two, recording every warning and error it logs. */
async function setup() {
  const schema = freshSchemaName();
  const problems: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (m) => problems.push(`warn: ${m}`),
    error: (m) => problems.push(`error: ${m}`),
  };
  const queue = await openQueue({ url: PG_URL, schema, pool: { max: 2 }, logger });
  const store = queue.store as PostgresStore;
  let peakConnections = 0;
  let peakWaiting = 0;
  // Sampled from inside handlers and completion events, while the worker runs.
  const samplePool = () => {
    const { total, waiting } = store.poolStats();
    peakConnections = Math.max(peakConnections, total);
    peakWaiting = Math.max(peakWaiting, waiting);
  };
  return {
    queue,
    store,
    problems,
    samplePool,
    peak: () => peakConnections,
    peakWaiting: () => peakWaiting,
    cleanup: async () => {
      await queue.close();
      await dropSchema(schema);
    },
  };
}

function countCompleted(queue: Queue, onEach: () => void): () => number {
  let n = 0;
  queue.on('completed', () => {
    n++;
    onEach();
  });
  return () => n;
}


before(requirePostgres);

test('pool of 2: ten concurrent deep scans (44 progress calls each) cost at most 3 statements per job, no pool errors', async (t) => {
  const { queue, store, problems, samplePool, peak, peakWaiting, cleanup } = await setup();
  try {
    const completed = countCompleted(queue, samplePool);
    const worker = queue.worker({
      'deep-scan': async (_job, ctx) => {
        for (let expert = 1; expert <= 11; expert++) {
          for (let step = 1; step <= 4; step++) {
            ctx.progress({ expert, of: 11, step });
            samplePool();
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
    const ids = await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: 'deep-scan', data: { repo: `r/${i}` } })));
    await waitFor(() => completed() === 10, 'ten deep scans to complete', 30_000);
    const after = store.stats();
    await worker.stop();

    const statements = after.statements - before.statements;
    const perJob = statements / 10;
    t.diagnostic(`deep scan on PostgreSQL: ${statements} statements for 10 jobs (${perJob} per job); by method ${JSON.stringify(diff(before.byMethod, after.byMethod))}`);
    assert.ok(perJob <= 3, `${statements} statements for 10 deep scans = ${perJob} per job (claims ${after.byMethod.claim! - (before.byMethod.claim ?? 0)}, ticks ${(after.byMethod.tick ?? 0) - (before.byMethod.tick ?? 0)}); 440 progress calls`);
    assert.ok((after.byMethod.tick ?? 0) > 0, 'progress reached the database through ticks while the scans ran');
    for (const job of await Promise.all(ids.map((id) => queue.getJob(id)))) {
      assert.equal(job!.status, 'completed');
      assert.deepEqual(job!.progress, { expert: 11, of: 11, step: 4 });
      assert.deepEqual(job!.result, { findings: 4 });
    }
    assert.ok(peak() <= 2, `at most 2 pooled connections, saw ${peak()}`);
    // A worker keeps at most two statements in flight (claim/finish loop, tick): nothing ever queued for a connection.
    assert.equal(peakWaiting(), 0, 'statements waited for a pooled connection');
    assert.deepEqual(problems, []);
  } finally {
    await cleanup();
  }
});

test('pool of 2: a thousand concurrent short jobs complete with no pool errors; listJobs of 100 is one statement', async () => {
  const { queue, store, problems, samplePool, peak, peakWaiting, cleanup } = await setup();
  try {
    const completed = countCompleted(queue, samplePool);
    let running = 0;
    let peakRunning = 0;
    const worker = queue.worker({
      short: async () => {
        peakRunning = Math.max(peakRunning, ++running);
        samplePool();
        await delay(200);
        running--;
      },
    }, { concurrency: 1000 });
    await worker.start();
    await queue.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: 'short', data: { i } })));
    await waitFor(() => completed() === 1000, 'a thousand short jobs to complete', 60_000);
    await worker.stop();
    assert.ok(peakRunning >= 500, `jobs ran concurrently (peak ${peakRunning})`);
    assert.equal((await queue.counts()).completed, 1000);
    assert.ok(peak() <= 2, `at most 2 pooled connections, saw ${peak()}`);
    // A worker keeps at most two statements in flight (claim/finish loop, tick): nothing ever queued for a connection.
    assert.equal(peakWaiting(), 0, 'statements waited for a pooled connection');
    assert.equal(store.poolStats().waiting, 0);
    assert.deepEqual(problems, []);

    const before = store.stats();
    const page = await queue.listJobs({ limit: 100 });
    const after = store.stats();
    assert.equal(page.length, 100);
    assert.equal(after.statements - before.statements, 1);
    assert.equal(after.roundTrips - before.roundTrips, 1);
    const next = await queue.listJobs({ limit: 100, cursor: page[99]!.id, status: 'completed' });
    assert.equal(Number(next[0]!.id), Number(page[99]!.id) - 1);
  } finally {
    await cleanup();
  }
});

function diff(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
}
