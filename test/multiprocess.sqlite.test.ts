import Database from 'better-sqlite3';
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

test('four worker processes on one file while another connection holds the write lock past their busy timeout: SQLITE_BUSY, recovered, each job once', async (t) => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'spool.db');
  const url = `sqlite:${path}`;
  const logs = [0, 1, 2, 3].map((i) => join(dir, `w${i}.log`));
  const queue = await openQueue({ url });
  const workers: LogWorker[] = [];
  const locker = new Database(path);
  try {
    // A 200 ms busy timeout: a write lock held longer surfaces as SQLITE_BUSY instead of a wait.
    for (const log of logs) workers.push(await startLogWorker({ url, log, workMs: 2, concurrency: 4, busyMs: 200 }));
    const ids = await queue.addBulk(Array.from({ length: 1_200 }, (_, i) => ({ name: 'work', data: { i } })));
    for (let episode = 0; episode < 2; episode++) {
      await waitFor(async () => (await queue.counts()).completed >= 300 * (episode + 1), 'the workers to get going', 60_000);
      locker.exec('BEGIN IMMEDIATE');
      await new Promise((r) => setTimeout(r, 1_000));
      locker.exec('COMMIT');
    }
    await waitFor(async () => (await queue.counts()).completed === ids.length, 'every job completed', 90_000);
    for (const w of workers) assert.equal(await w.fixture.stop(), 0, 'a worker process stops cleanly on SIGTERM');

    const ran = new Map<string, number>();
    for (const log of logs) for (const l of readLog(log)) if (l.event === 'done') ran.set(l.id, (ran.get(l.id) ?? 0) + 1);
    assert.deepEqual([...ran].filter(([, n]) => n > 1), [], 'no job ran twice');
    assert.equal(ran.size, ids.length, 'every job ran');
    // Each fault is one 'could not' line, then quiet retries, then one 'works again' line: the lines alternate.
    // (Under load, contention between the four can exceed the 200 ms busy timeout too: more episodes, same shape.)
    const faultLines = workers.map((w) => w.fixture.stderr().split('\n').filter((l) => /could not|works again/.test(l)));
    const errors = faultLines.map((lines) => lines.filter((l) => /could not/.test(l)));
    t.diagnostic(`SQLITE_BUSY episodes per process: ${errors.map((e) => e.length).join(' / ')}; e.g. ${errors.flat()[0]?.slice(0, 160)}`);
    assert.ok(errors.flat().some((l) => /database is locked/.test(l)), 'the held lock surfaced as SQLITE_BUSY');
    for (const lines of faultLines) {
      lines.forEach((line, i) => assert.match(line, i % 2 === 0 ? /could not/ : /works again/, `one line per fault, then one when it works again:\n${lines.join('\n')}`));
    }
  } finally {
    locker.close();
    await killAll(workers.map((w) => w.fixture));
    await queue.close();
    cleanup();
  }
});
