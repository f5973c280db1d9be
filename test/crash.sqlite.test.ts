import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { type Job, openQueue } from '../src/index.ts';
import { exitWithin, type LogWorker, readLog, startLogWorker } from './support/log-worker.ts';
import { killAll } from './support/children.ts';
import { tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';

const JOBS = 48;
const LEASE_MS = 500;

/** A fresh SQLite file, the log the child workers append to, a queue on the file, and their teardown. */
async function setup() {
  const { dir, cleanup } = tempDir();
  const url = `sqlite:${join(dir, 'spool.db')}`;
  const log = join(dir, 'jobs.log');
  const queue = await openQueue({ url });
  const teardown = async (child: LogWorker | undefined) => {
    if (child) await killAll([child.fixture]);
    await queue.close();
    cleanup();
  };
  return { url, log, queue, teardown };
}

test('a worker process killed with SIGKILL mid-run: another worker finishes every job, and only the jobs in flight run twice', async () => {
  const { url, log, queue, teardown } = await setup();
  let first: LogWorker | undefined;
  try {
    const ids = await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'work', data: { i } })));

    // The first worker: 3 at a time, 150 ms each, the same short lease as the rescuer so its leases
    // run out quickly once it is dead.
    first = await startLogWorker({ url, log, workMs: 150, leaseMs: LEASE_MS, concurrency: 3 });
    const startedNotDone = () => {
      const lines = readLog(log);
      const done = new Set(lines.filter((l) => l.event === 'done').map((l) => l.id));
      return lines.filter((l) => l.event === 'start' && !done.has(l.id));
    };
    await waitFor(async () => (await queue.counts()).completed >= 6 && startedNotDone().length > 0, 'some jobs completed and some in flight');
    first.fixture.child.kill('SIGKILL');
    assert.equal(await exitWithin(first), 'SIGKILL');

    // The state at the kill: nothing writes to the file until the rescuer starts.
    const atKill = await queue.listJobs({ limit: 1000 });
    const runningAtKill = new Set(atKill.filter((j) => j.status === 'running').map((j) => j.id));
    const completedAtKill = new Set(atKill.filter((j) => j.status === 'completed').map((j) => j.id));
    const logAtKill = readLog(log);
    const inFlightByLog = new Set(startedNotDone().map((l) => l.id));
    assert.ok(inFlightByLog.size > 0, 'the kill hit jobs mid-run');
    assert.ok(completedAtKill.size >= 6, 'the first worker completed some jobs');
    assert.ok(logAtKill.every((l) => l.pid === first!.fixture.child.pid), 'only the first worker ran jobs so far');
    // Every job the log shows in flight is still running in the store, held by a dead worker.
    for (const id of inFlightByLog) assert.ok(runningAtKill.has(id), `job ${id} was started but not done, so it must still be running`);

    // The rescuer, in this process: takes the pending jobs at once and the dead worker's jobs when their leases run out.
    const rescuer = queue.worker(
      {
        work: async (job) => {
          appendFileSync(log, `start ${job.id} ${process.pid}\n`);
          await sleep(20);
          appendFileSync(log, `done ${job.id} ${process.pid}\n`);
        },
      },
      { concurrency: 4, leaseMs: LEASE_MS, pollMs: 50 },
    );
    await rescuer.start();
    await waitFor(async () => (await queue.counts()).completed === JOBS, `all ${JOBS} jobs completed`, 20_000);
    await rescuer.stop();

    const counts = await queue.counts();
    assert.deepEqual(counts, { pending: 0, running: 0, completed: JOBS, failed: 0, cancelled: 0 });

    const lines = readLog(log);
    const starts = new Map<string, number>();
    for (const l of lines) if (l.event === 'start') starts.set(l.id, (starts.get(l.id) ?? 0) + 1);
    const done = new Set(lines.filter((l) => l.event === 'done').map((l) => l.id));
    for (const id of ids) assert.ok(done.has(id), `job ${id} has a done line`);

    const ranTwice = new Set([...starts].filter(([, n]) => n > 1).map(([id]) => id));
    assert.ok([...starts.values()].every((n) => n <= 2), 'no job ran more than twice');
    // The jobs that ran twice are exactly the ones that were started but not done at the kill, give or take
    // a job whose handler had returned but whose completion the dead worker had not yet committed: still
    // running in the store, so still in flight, and rightly run again (at-least-once).
    for (const id of inFlightByLog) assert.ok(ranTwice.has(id), `job ${id} was in flight at the kill, so it ran again`);
    for (const id of ranTwice) assert.ok(runningAtKill.has(id), `job ${id} ran twice but was not in flight at the kill`);
    for (const id of completedAtKill) assert.equal(starts.get(id), 1, `job ${id} was completed before the kill and ran once`);

    const jobs = new Map((await queue.listJobs({ limit: 1000 })).map((j): [string, Job] => [j.id, j]));
    for (const id of ids) {
      const job = jobs.get(id)!;
      assert.equal(job.attempts, runningAtKill.has(id) ? 2 : 1, `attempts of job ${id}`);
      if (runningAtKill.has(id)) assert.equal(job.processingBy, rescuer.id, `job ${id} was finished by the rescuer`);
    }
  } finally {
    await teardown(first);
  }
});

test('a job whose last attempt died with its worker process goes to the dead-letter queue instead of running again', async () => {
  const { url, log, queue, teardown } = await setup();
  let first: LogWorker | undefined;
  try {
    const ids = await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'work', data: { i }, options: { maxAttempts: 1 } })));
    first = await startLogWorker({ url, log, workMs: 150, leaseMs: LEASE_MS, concurrency: 2 });
    await waitFor(() => readLog(log).some((l) => l.event === 'start'), 'a job to start');
    first.fixture.child.kill('SIGKILL');
    assert.equal(await exitWithin(first), 'SIGKILL');
    const done = new Set(readLog(log).filter((l) => l.event === 'done').map((l) => l.id));
    const lost = new Set(readLog(log).filter((l) => l.event === 'start' && !done.has(l.id)).map((l) => l.id));
    assert.ok(lost.size > 0, 'the kill hit a job mid-run');

    const rescuer = queue.worker(
      {
        work: (job) => {
          appendFileSync(log, `start ${job.id} ${process.pid}\n`);
        },
      },
      { concurrency: 4, leaseMs: LEASE_MS, pollMs: 50 },
    );
    await rescuer.start();
    await waitFor(async () => {
      const c = await queue.counts();
      return c.completed + c.failed === ids.length;
    }, 'every job to finish', 20_000);
    await rescuer.stop();

    const starts = readLog(log).filter((l) => l.event === 'start');
    for (const id of ids) {
      const job = (await queue.getJob(id))!;
      if (lost.has(id)) {
        assert.equal(job.status, 'failed', `job ${id} lost its only attempt`);
        assert.match(job.error!, /worker stopped during the last of 1 attempts \(lease expired\)/);
        assert.equal(job.attempts, 1, 'the lost attempt was its only one');
        assert.equal(starts.filter((l) => l.id === id).length, 1, `job ${id} was not run again`);
      } else {
        assert.equal(job.status, 'completed', `job ${id}`);
      }
    }
    assert.deepEqual((await queue.listJobs({ status: 'failed' })).map((j) => j.id).sort(), [...lost].sort());
  } finally {
    await teardown(first);
  }
});

test('after a SIGKILL the jobs that run again are the ones in flight and those whose outcome still waited for its batch: at most one batch window', async (t) => {
  const { url, log, queue, teardown } = await setup();
  let first: LogWorker | undefined;
  const concurrency = 25;
  try {
    const ids = await queue.addBulk(Array.from({ length: 3_000 }, (_, i) => ({ name: 'work', data: { i } })));
    // Short jobs, many at once: outcomes are written in batches (5 ms windows, or carried by the next claim).
    first = await startLogWorker({ url, log, workMs: 1, leaseMs: LEASE_MS, concurrency });
    await waitFor(async () => (await queue.counts()).completed >= 800, 'many batches written', 30_000);
    first.fixture.child.kill('SIGKILL');
    assert.equal(await exitWithin(first), 'SIGKILL');

    const atKill = [...(await queue.listJobs({ limit: 1000, status: 'completed' })), ...(await queue.listJobs({ limit: 1000, status: 'running' }))];
    const lines = readLog(log);
    const done = new Set(lines.filter((l) => l.event === 'done').map((l) => l.id));
    const inFlight = new Set(lines.filter((l) => l.event === 'start' && !done.has(l.id)).map((l) => l.id));
    const runningAtKill = new Set(atKill.filter((j) => j.status === 'running').map((j) => j.id));
    // Handlers returned, outcome not yet committed: what the batch window costs.
    const unwritten = new Set([...done].filter((id) => runningAtKill.has(id)));
    // Outcomes per batch window: jobs completed by one statement share its completedAt.
    const perBatch = new Map<number, number>();
    for (const j of atKill) if (j.status === 'completed') perBatch.set(j.completedAt!.getTime(), (perBatch.get(j.completedAt!.getTime()) ?? 0) + 1);
    const largestBatch = Math.max(...perBatch.values());

    const rescuer = queue.worker({ work: (job) => void appendFileSync(log, `start ${job.id} ${process.pid}\n`) }, { concurrency: 25, leaseMs: LEASE_MS, pollMs: 50 });
    await rescuer.start();
    await waitFor(async () => (await queue.counts()).completed === ids.length, 'every job completed', 30_000);
    await rescuer.stop();

    const starts = new Map<string, number>();
    for (const l of readLog(log)) if (l.event === 'start') starts.set(l.id, (starts.get(l.id) ?? 0) + 1);
    const ranAgain = [...starts].filter(([, n]) => n > 1).map(([id]) => id);
    t.diagnostic(`SIGKILL with ${inFlight.size} handlers in flight and ${unwritten.size} outcomes unwritten: ${ranAgain.length} jobs ran again; ${perBatch.size} batches before the kill, the largest ${largestBatch} outcomes`);
    assert.deepEqual(ranAgain.sort(), [...new Set([...inFlight, ...unwritten])].sort(), 'what ran again is exactly what was in flight or unwritten');
    assert.ok([...starts.values()].every((n) => n <= 2), 'nothing ran three times');
    assert.ok(inFlight.size <= concurrency);
    assert.ok(unwritten.size <= largestBatch, `${unwritten.size} unwritten outcomes, more than the largest batch written (${largestBatch})`);
    assert.ok(ranAgain.length <= concurrency + largestBatch, `re-runs ${ranAgain.length} ≤ in flight (${concurrency}) + one batch window (${largestBatch})`);
  } finally {
    await teardown(first);
  }
});
