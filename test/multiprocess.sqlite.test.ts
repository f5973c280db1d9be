import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Job, openQueue } from '../src/index.ts';
import { killAll } from './support/children.ts';
import { exitWithin, type LogWorker, readLog, startLogWorker } from './support/log-worker.ts';
import { tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';

const JOBS = 2_000;

test('two worker processes on one file run 2,000 jobs, each exactly once, and both take part', async (t) => {
  const { dir, cleanup } = tempDir();
  const url = `sqlite:${join(dir, 'spool.db')}`;
  const logs = [join(dir, 'a.log'), join(dir, 'b.log')];
  const queue = await openQueue({ url });
  const workers: LogWorker[] = [];
  try {
    for (const log of logs) workers.push(await startLogWorker({ url, log, workMs: 1, concurrency: 8 }));

    // Half before they have anything to do, half while they run: the workers learn of both from the file.
    const ids = await queue.addBulk(Array.from({ length: JOBS / 2 }, (_, i) => ({ name: 'work', data: { i } })));
    await waitFor(async () => (await queue.counts()).completed >= 100, 'the workers to get going', 30_000);
    ids.push(...(await queue.addBulk(Array.from({ length: JOBS / 2 }, (_, i) => ({ name: 'work', data: { i: JOBS / 2 + i } })))));
    await waitFor(async () => (await queue.counts()).completed === JOBS, `all ${JOBS} jobs completed`, 90_000);

    for (const w of workers) w.fixture.child.kill('SIGTERM');
    for (const w of workers) assert.equal(await exitWithin(w), 0, 'a worker process stops cleanly on SIGTERM');

    assert.deepEqual(await queue.counts(), { pending: 0, running: 0, completed: JOBS, failed: 0, cancelled: 0 });

    // Each process logged what it ran: together every id exactly once, and each process ran some.
    const ranBy = new Map<string, number[]>();
    for (const [i, log] of logs.entries()) {
      const lines = readLog(log);
      assert.ok(lines.every((l) => l.pid === workers[i]!.fixture.child.pid));
      for (const l of lines) if (l.event === 'done') ranBy.set(l.id, [...(ranBy.get(l.id) ?? []), l.pid]);
      assert.equal(lines.filter((l) => l.event === 'start').length, lines.filter((l) => l.event === 'done').length, `${log}: every start has its done`);
    }
    const duplicates = [...ranBy].filter(([, pids]) => pids.length > 1);
    assert.deepEqual(duplicates, [], 'no job ran twice');
    assert.deepEqual([...ranBy.keys()].sort(), [...ids].sort(), 'the logs together hold every job');
    const share = workers.map((w) => [...ranBy.values()].filter(([pid]) => pid === w.fixture.child.pid).length);
    t.diagnostic(`jobs run per process: ${share.join(' / ')}`);
    for (const [i, n] of share.entries()) assert.ok(n > 0, `worker process ${i} ran no job (split ${share.join(' / ')})`);

    // The store agrees: one attempt each, completed by the process that logged it.
    const jobs = [...(await queue.listJobs({ limit: 1000 })), ...(await queue.listJobs({ limit: 1000, offset: 1000 }))];
    assert.equal(jobs.length, JOBS);
    const workerOfPid = new Map(workers.map((w) => [w.fixture.child.pid!, w.workerId]));
    const wrong = jobs.filter((j: Job) => j.status !== 'completed' || j.attempts !== 1 || j.processingBy !== workerOfPid.get(ranBy.get(j.id)![0]!));
    assert.deepEqual(wrong.map((j) => ({ id: j.id, status: j.status, attempts: j.attempts, processingBy: j.processingBy })), []);
  } finally {
    await killAll(workers.map((w) => w.fixture));
    await queue.close();
    cleanup();
  }
});
