import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { openQueue } from '../src/index.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { type Fixture, killAll, spawnFixture } from './support/children.ts';
import { dropSchema, freshSchemaName, PG_URL, pollUntil, requirePostgres, withAdmin } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

/** Creates a fresh schema's tables. */
async function createSchema(): Promise<string> {
  const schema = freshSchemaName();
  await (await openQueue({ url: PG_URL, schema, pool: { max: 1 } })).close();
  return schema;
}

/**
 * Adds `jobs` jobs named 'work' in one statement from this process. Called once every worker is ready, so
 * all of them compete from the first job (a slow-starting process cannot miss the run).
 */
async function addJobs(schema: string, jobs: number): Promise<void> {
  const queue = await openQueue({ url: PG_URL, schema, pool: { max: 1 } });
  await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'work', data: { i } })));
  await queue.close();
}

async function statusCounts(schema: string): Promise<Record<string, number>> {
  return withAdmin(async (c) => {
    const { rows } = await c.query(`SELECT status, count(*)::int AS n FROM "${schema}".jobs GROUP BY status`);
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  });
}

function startWorkers(n: number, schema: string, env: Record<string, string>): Fixture[] {
  return Array.from({ length: n }, () => spawnFixture('pg-worker.ts', { SPOOL_TEST_URL: PG_URL, SPOOL_TEST_SCHEMA: schema, ...env }));
}

/** Job id → how many times a handler started it, over all the workers' output. */
function startsById(workers: Fixture[]): Map<string, number> {
  const starts = new Map<string, number>();
  for (const w of workers) for (const line of w.lines) if (line.startsWith('start ')) {
    const id = line.split(' ')[1]!;
    starts.set(id, (starts.get(id) ?? 0) + 1);
  }
  return starts;
}

const startedBy = (w: Fixture) => new Set(w.lines.filter((l) => l.startsWith('start ')).map((l) => l.split(' ')[1]!));


before(requirePostgres);

test('three worker processes, 3,000 jobs: every job runs exactly once and all three take part', async (t) => {
  const schema = await createSchema();
  const workers = startWorkers(3, schema, { CONCURRENCY: '20', WORK_MS: '2' });
  try {
    await Promise.all(workers.map((w) => w.waitForLine((l) => l.startsWith('ready'), 'ready')));
    // Added after the workers went idle: the NOTIFY of this one statement wakes all three.
    await addJobs(schema, 3000);
    await pollUntil(async () => (await statusCounts(schema)).completed === 3000, '3,000 completed jobs', 120_000, 100);

    const starts = startsById(workers);
    assert.equal(starts.size, 3000);
    assert.deepEqual([...starts.values()].filter((n) => n !== 1), [], 'no job ran twice');
    t.diagnostic(`jobs per worker process: ${workers.map((w) => startedBy(w).size).join(', ')}`);
    for (const w of workers) assert.ok(startedBy(w).size > 0, 'every worker process ran jobs');
    assert.deepEqual(await statusCounts(schema), { completed: 3000 });
    for (const w of workers) assert.equal(await w.stop(), 0, w.stderr());
  } finally {
    await killAll(workers);
    await dropSchema(schema);
  }
});

test('a worker process killed with SIGKILL mid-run: its jobs are taken over after the lease, nothing is lost', async (t) => {
  const schema = await createSchema();
  const LEASE_MS = '1000';
  const CONCURRENCY = 10;
  const workers = startWorkers(3, schema, { CONCURRENCY: String(CONCURRENCY), WORK_MS: '20', LEASE_MS });
  const [victim] = workers as [Fixture, Fixture, Fixture];
  try {
    await Promise.all(workers.map((w) => w.waitForLine((l) => l.startsWith('ready'), 'ready')));
    const victimId = (await victim.waitForLine((l) => l.startsWith('ready'), 'ready')).split(' ')[1]!;
    await addJobs(schema, 1200);
    await victim.waitForLine(() => startedBy(victim).size >= 50, 'the victim to start 50 jobs');
    victim.child.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');
    const victimStarted = startedBy(victim);
    const victimDone = new Set(victim.lines.filter((l) => l.startsWith('done ')).map((l) => l.split(' ')[1]!));
    const inFlight = [...victimStarted].filter((id) => !victimDone.has(id));

    await pollUntil(async () => (await statusCounts(schema)).completed === 1200, 'all 1,200 jobs completed', 120_000, 100);
    assert.deepEqual(await statusCounts(schema), { completed: 1200 }, 'nothing lost, nothing failed');

    const starts = startsById(workers);
    assert.equal(starts.size, 1200);
    const twice = [...starts].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual([...starts.values()].filter((n) => n > 2), [], 'no job ran three times');
    for (const id of twice) assert.ok(victimStarted.has(id), `job ${id} ran twice but the killed worker never started it`);
    for (const id of inFlight) assert.equal(starts.get(id), 2, `job ${id} was in flight in the killed worker: it runs again`);
    // Exactly the victim's jobs whose outcome it had not stored ran twice: handlers still running at the
    // kill, and handlers that had returned whose outcome waited (≤ 5 ms) or was on its way to the database.
    // A count bound (2 × concurrency) failed on a load-28 machine, where one finish statement took long
    // enough for more outcomes to queue behind it; the identity holds at any load.
    const finishedBy = await withAdmin(async (c) => (await c.query(
      `SELECT id::text, processing_by FROM "${schema}".jobs WHERE id = ANY($1::bigint[])`, [[...victimStarted]],
    )).rows as { id: string; processing_by: string | null }[]);
    const notStoredByVictim = finishedBy.filter((r) => r.processing_by !== victimId).map((r) => r.id).sort();
    assert.deepEqual([...twice].sort(), notStoredByVictim, 'the jobs that ran twice are the ones whose outcome the victim had not stored');
    t.diagnostic(`killed after ${victimStarted.size} starts with ${inFlight.length} in flight; ${twice.length} jobs ran twice`);
    assert.ok(inFlight.length > 0, 'the victim was killed with jobs in flight');
    const takenOver = await withAdmin(async (c) => (await c.query(
      `SELECT id::text, attempts, processing_by FROM "${schema}".jobs WHERE id = ANY($1::bigint[])`, [inFlight],
    )).rows);
    for (const row of takenOver) {
      assert.equal(row.attempts, 2, `job ${row.id}: the lost attempt counts`);
      assert.notEqual(row.processing_by, victimId, `job ${row.id} was finished by a surviving worker`);
    }
    for (const w of workers.slice(1)) assert.equal(await w.stop(), 0, w.stderr());
  } finally {
    await killAll(workers);
    await dropSchema(schema);
  }
});

test("connection loss mid-run (pg_terminate_backend on Spool's backends): workers reconnect and finish every job", async (t) => {
  const schema = await createSchema();
  const CONCURRENCY = 10;
  const workers = startWorkers(2, schema, { CONCURRENCY: String(CONCURRENCY), WORK_MS: '10', LEASE_MS: '3000' });
  try {
    await Promise.all(workers.map((w) => w.waitForLine((l) => l.startsWith('ready'), 'ready')));
    await addJobs(schema, 1500);
    const terminate = () => withAdmin(async (c) => (await c.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`,
      [`spool/${schema}%`],
    )).rowCount ?? 0);
    let terminated = 0;
    for (const threshold of [300, 800]) {
      await pollUntil(async () => ((await statusCounts(schema)).completed ?? 0) >= threshold, `${threshold} completed jobs`, 120_000, 20);
      terminated += await terminate();
    }
    // Each worker holds pooled connections and a listening one: all of them were cut, twice.
    assert.ok(terminated >= 4, `terminated ${terminated} backends`);

    await pollUntil(async () => (await statusCounts(schema)).completed === 1500, 'all 1,500 jobs completed', 120_000, 100);
    assert.deepEqual(await statusCounts(schema), { completed: 1500 });
    for (const w of workers) assert.equal(w.child.exitCode, null, `a worker process died: ${w.stderr()}`);

    const starts = startsById(workers);
    assert.equal(starts.size, 1500);
    const twice = [...starts.values()].filter((n) => n > 1).length;
    assert.deepEqual([...starts.values()].filter((n) => n > 2), [], 'no job ran three times');
    // Only jobs in flight when a connection was cut may run again: per cut, per worker, ≤ running + unwritten.
    assert.ok(twice <= 2 * 2 * 2 * CONCURRENCY, `${twice} jobs ran twice`);
    const logs = workers.map((w) => w.stderr()).join('\n');
    t.diagnostic(`terminated ${terminated} backends in two cuts; ${twice} jobs ran twice; ${logs.split('\n').filter(Boolean).length} log lines`);
    if (process.env.SPOOL_TEST_VERBOSE) t.diagnostic(logs);
    assert.match(logs, /terminating connection|connection lost|Connection terminated/i, 'the workers saw their connections cut');
    for (const w of workers) assert.equal(await w.stop(), 0, w.stderr());
  } finally {
    await killAll(workers);
    await dropSchema(schema);
  }
});

test('a process that only watches learns of jobs added, started, progressing, completed and failed in other processes', async () => {
  const schema = freshSchemaName();
  const watcher = await PostgresStore.open({ url: PG_URL, schema });
  const seen = new Map<string, Set<string>>();
  const unwatch = watcher.watch((events) => {
    for (const e of events) if (e.type !== 'external') for (const id of e.ids) (seen.get(e.type) ?? seen.set(e.type, new Set()).get(e.type)!).add(id);
  });
  // pollMs of a minute: the worker process can only learn of the jobs in time from the producer's NOTIFY.
  const [worker] = startWorkers(1, schema, { POLL_MS: '60000', PROGRESS_MS: '50', WORK_MS: '400' }) as [Fixture];
  const fixtures = [worker];
  try {
    await watcher.listening();
    await worker.waitForLine((l) => l.startsWith('ready'), 'ready');
    const producer = spawnFixture('pg-add.ts', {
      SPOOL_TEST_URL: PG_URL,
      SPOOL_TEST_SCHEMA: schema,
      JOBS: JSON.stringify([{ name: 'scan', data: { repo: 'a/b' } }, { name: 'broken', options: { maxAttempts: 1 } }]),
    });
    fixtures.push(producer);
    const [scan, broken] = (await producer.waitForLine((l) => l.startsWith('added '), 'added')).slice('added '.length).split(',') as [string, string];
    const saw = (type: string, id: string) => seen.get(type)?.has(id) ?? false;
    await waitFor(() => saw('completed', scan) && saw('failed', broken), 'the watcher to hear both jobs finish', 20_000);

    assert.ok(saw('added', scan) && saw('added', broken), 'added');
    assert.ok(saw('started', scan) && saw('started', broken), 'started');
    assert.ok(saw('progress', scan), 'progress written by the worker tick');
    assert.ok(!saw('failed', scan) && !saw('completed', broken));
    assert.equal(await producer.exitWithin(), 0, producer.stderr());
    assert.equal(await worker.stop(), 0, worker.stderr());
  } finally {
    unwatch();
    await killAll(fixtures);
    await watcher.close();
    await dropSchema(schema);
  }
});
