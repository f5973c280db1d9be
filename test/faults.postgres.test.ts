import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { type Logger, openQueue, type Queue } from '../src/index.ts';
import type { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { MAX_UNCONFIRMED } from '../src/worker/outcome-batcher.ts';
import { recordingLogger } from './suites/reliability.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { CuttableProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

/**
 * Faults on PostgreSQL, on Spool's own connections only (the server is shared): backends terminated, an
 * outage (a proxy that drops every connection and refuses new ones, then comes back: what a restart looks
 * like to clients), statement_timeout hit, the pool held by a statement waiting on a lock, the LISTEN
 * connection cut. Each time the worker recovers by itself, every job runs exactly once (leases outlast the
 * fault), and the fault costs a few log lines, not one per job or retry.
 */

before(requirePostgres);

interface Setup {
  schema: string;
  /** The producer: adds and reads, straight to the server. */
  queue: Queue;
  /** The worker's queue: straight, or through `proxy` when asked. */
  workerQueue: Queue;
  logger: Logger & { lines: string[] };
  admin: pg.Client;
  proxy: CuttableProxy | undefined;
  /** Runs per job id, counted by the handler. */
  runs: Map<string, number>;
  teardown(): Promise<void>;
}

/** A fresh schema, a producer queue, and a worker queue (through a cuttable proxy, or with extra URL parameters). */
async function setup(options: { viaProxy?: boolean; urlParams?: string } = {}): Promise<Setup> {
  const schema = freshSchemaName();
  const logger = recordingLogger();
  const queue = await openQueue({ url: PG_URL, schema, pool: { max: 2 }, logger: recordingLogger() });
  const proxy = options.viaProxy ? CuttableProxy.forUrl(PG_URL) : undefined;
  await proxy?.start();
  const base = proxy ? proxy.urlFor(PG_URL) : PG_URL;
  const workerUrl = options.urlParams ? `${base}${base.includes('?') ? '&' : '?'}${options.urlParams}` : base;
  const workerQueue = await openQueue({ url: workerUrl, schema, pool: { max: 2 }, logger });
  const admin = new pg.Client({ connectionString: PG_URL, application_name: 'spool-test-admin' });
  admin.on('error', () => {});
  await admin.connect();
  return {
    schema,
    queue,
    workerQueue,
    logger,
    admin,
    proxy,
    runs: new Map(),
    async teardown() {
      await admin.end().catch(() => {});
      await workerQueue.close();
      await queue.close();
      await proxy?.stop();
      await dropSchema(schema);
    },
  };
}

/** A worker on `s.workerQueue` counting runs per job; jobs take `workMs`. */
function countingWorker(s: Setup, options: { concurrency?: number; workMs?: number; leaseMs?: number; pollMs?: number } = {}) {
  const workMs = options.workMs ?? 2;
  return s.workerQueue.worker(
    {
      work: async (job) => {
        s.runs.set(job.id, (s.runs.get(job.id) ?? 0) + 1);
        if (workMs > 0) await delay(workMs);
        return { ok: true };
      },
    },
    { concurrency: options.concurrency ?? 10, leaseMs: options.leaseMs ?? 30_000, pollMs: options.pollMs ?? 200 },
  );
}

/** Every job completed, each run exactly once; the fault cost a few log lines, at most one of them an error. */
async function assertRecovered(t: { diagnostic(m: string): void }, s: Setup, ids: string[], what: string): Promise<void> {
  // The producer's own idle connection may have been killed too: its next statement then fails once (a
  // retryable StoreError, as a caller would see it); the test reads again.
  const completed = async () => (await s.queue.counts().catch(() => null))?.completed;
  await waitFor(async () => (await completed()) === ids.length, `all ${ids.length} jobs to complete after ${what}`, 60_000);
  assert.deepEqual(await s.queue.counts(), { pending: 0, running: 0, completed: ids.length, failed: 0, cancelled: 0 });
  const twice = [...s.runs].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'no job ran twice: the leases outlasted the fault');
  assert.equal(s.runs.size, ids.length);
  t.diagnostic(`${what}: log ${JSON.stringify(s.logger.lines.map((l) => l.slice(0, 110)))}`);
  assert.ok(s.logger.lines.filter((l) => l.startsWith('error: ')).length <= 1, `one error line for the fault, not one per retry or job:\n${s.logger.lines.join('\n')}`);
  assert.ok(s.logger.lines.length <= 4, `a few lines for the fault (its start and its end, worker and change feed), not one per retry or job:\n${s.logger.lines.join('\n')}`);
}

test("Spool's backends terminated mid-run (pool and LISTEN): the worker recovers, every job runs once", async (t) => {
  const s = await setup();
  try {
    const ids = await s.queue.addBulk(Array.from({ length: 2_000 }, (_, i) => ({ name: 'work', data: i })));
    const worker = countingWorker(s);
    await worker.start();
    await waitFor(async () => (await s.queue.counts()).completed >= 300, 'the worker to get going', 30_000);
    const { rows } = await s.admin.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`,
      [`spool/${s.schema}%`],
    );
    assert.ok(rows.length >= 2, `terminated ${rows.length} of Spool's backends (pool and LISTEN)`);
    await assertRecovered(t, s, ids, 'backends terminated');
    await worker.stop();
  } finally {
    await s.teardown();
  }
});

test('an outage (every connection dropped, new ones refused for 2 s, then back): the worker recovers, every job runs once', async (t) => {
  const s = await setup({ viaProxy: true });
  try {
    const ids = await s.queue.addBulk(Array.from({ length: 2_000 }, (_, i) => ({ name: 'work', data: i })));
    const worker = countingWorker(s);
    await worker.start();
    await waitFor(async () => (await s.queue.counts()).completed >= 300, 'the worker to get going', 30_000);
    s.proxy!.cut();
    const cutAt = performance.now();
    await delay(2_000);
    const during = (await s.queue.counts()).completed;
    s.proxy!.restore();
    const restoredAt = performance.now();
    await waitFor(async () => (await s.queue.counts()).completed > during, 'the first completion after the outage', 30_000);
    t.diagnostic(`outage of ${Math.round(restoredAt - cutAt)} ms: first completion ${Math.round(performance.now() - restoredAt)} ms after the server came back (retry back-off: at most 5 s)`);
    await assertRecovered(t, s, ids, 'an outage');
    assert.ok(s.logger.lines.some((l) => /works again after/.test(l)), 'a line says when it works again');
    await worker.stop();
  } finally {
    await s.teardown();
  }
});

test('statement_timeout hit (a finish and a tick blocked by a row lock past 300 ms): retried until the lock goes, every job runs once', async (t) => {
  const s = await setup({ urlParams: `options=${encodeURIComponent('-c statement_timeout=300 -c enable_bitmapscan=off')}` });
  try {
    const ids = await s.queue.addBulk(Array.from({ length: 300 }, (_, i) => ({ name: 'work', data: i })));
    const worker = countingWorker(s, { concurrency: 10, workMs: 20 });
    await worker.start();
    await waitFor(async () => (await s.queue.counts()).completed >= 30, 'the worker to get going', 30_000);
    await s.admin.query('BEGIN');
    await waitFor(async () => {
      const { rows } = await s.admin.query(`SELECT id FROM "${s.schema}".jobs_live WHERE status = 'running' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`);
      return rows.length === 1;
    }, 'a running job to lock');
    await waitFor(() => s.logger.lines.some((l) => /statement timeout/.test(l)), 'a statement to hit the timeout and be reported');
    await delay(1_000); // more timeouts: still one line
    await s.admin.query('ROLLBACK');
    await assertRecovered(t, s, ids, 'statement_timeout');
    await worker.stop();
  } finally {
    await s.admin.query('ROLLBACK').catch(() => {});
    await s.teardown();
  }
});

test('the LISTEN connection cut while the worker idles: it reconnects, and a job added then still runs within seconds', async (t) => {
  const s = await setup();
  try {
    // A long poll: the job can only be noticed through the change feed (or its reconnect).
    const worker = countingWorker(s, { pollMs: 60_000 });
    await worker.start();
    await (s.workerQueue.store as PostgresStore).listening();
    await waitFor(() => worker.stats().idle, 'the worker to idle');
    const { rows } = await s.admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`spool/${s.schema}/listen`]);
    assert.equal(rows.length, 1);
    const [id] = await s.queue.addBulk([{ name: 'work' }]);
    const added = performance.now();
    await waitFor(() => s.runs.get(id!) === 1, 'the job added while the feed was down to run', 10_000);
    t.diagnostic(`ran ${Math.round(performance.now() - added)} ms after it was added with the feed down; log ${JSON.stringify(s.logger.lines)}`);
    await waitFor(() => s.logger.lines.some((l) => /works again after/.test(l)), 'the feed to say it listens again');
    assert.deepEqual(s.logger.lines.filter((l) => l.startsWith('error: ')), []);
    assert.ok(s.logger.lines.length <= 2, s.logger.lines.join('\n'));
    await worker.stop();
  } finally {
    await s.teardown();
  }
});

test("the pool held by a statement waiting on another transaction's row lock: claims pause at 1,000 unwritten outcomes, all are written once it goes", async (t) => {
  const s = await setup();
  try {
    let returned = 0;
    const concurrency = 25;
    const worker = s.workerQueue.worker({ quick: () => void returned++ }, { concurrency, pollMs: 50 });
    const total = 30_000;
    await s.queue.addBulk(Array.from({ length: total }, (_, i) => ({ name: 'quick', data: i })));
    await worker.start();
    await waitFor(() => returned >= 100, 'the worker to get going');
    // Lock a row the worker holds: the finish batch that carries it waits, and so does the tick: both pooled
    // connections are held; claims wait for one.
    await s.admin.query('BEGIN');
    await waitFor(async () => {
      const { rows } = await s.admin.query(`SELECT id FROM "${s.schema}".jobs_live WHERE status = 'running' ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED`);
      return rows.length === 1;
    }, 'a running job to lock');
    await delay(1_500);
    const completed = async () => (await s.queue.counts()).completed;
    const unwritten = returned - (await completed());
    const held = concurrency + 400; // slots + the prefetch of short jobs
    t.diagnostic(`while a finish was blocked for 1.5 s: ${unwritten} handlers had returned without their outcome written (cap ${MAX_UNCONFIRMED} + ${held} held)`);
    assert.ok(unwritten <= MAX_UNCONFIRMED + held, `${unwritten} outcomes waited unwritten: a crash now would run them all again`);
    await s.admin.query('ROLLBACK');
    await waitFor(async () => (await completed()) === total, 'every job to complete once the lock is gone', 60_000);
    assert.equal(returned, total, 'each ran once');
    assert.deepEqual(s.logger.lines, [], 'waiting on a lock is not a fault: nothing logged');
    await worker.stop();
  } finally {
    await s.admin.query('ROLLBACK').catch(() => {});
    await s.teardown();
  }
});
