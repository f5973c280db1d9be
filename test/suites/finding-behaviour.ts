import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError, type Job, type Queue } from '../../src/index.ts';
import { writesSent } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

/** Opens a queue on a fresh database. */
export type FindingFactory = () => Promise<{ queue: Queue; cleanup: () => Promise<void> }>;

const LEASE = 30_000;

/** Makes `n` jobs of `name` failed, through the store (a claim and a finish: two statements for all of them). */
async function failedJobs(queue: Queue, name: string, n: number, data: (i: number) => unknown = (i) => ({ i })): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1000) ids.push(...(await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name, data: data(i + k), options: { maxAttempts: 1 } })))));
  const now = Date.now();
  const { jobs } = await queue.store.claim({ names: [name], limit: n, workerId: 'setup', leaseMs: LEASE, now });
  await queue.store.finish({ workerId: 'setup', now, outcomes: jobs.map((j) => ({ id: j.id, status: 'failed' as const, error: 'setup', errorStack: null })) });
  return ids;
}

/**
 * Finding and fixing many jobs through the public API (API.md "Finding and fixing many jobs"): data search,
 * counts of a filter, bulk actions in chunks, the attempt history — on any store.
 */
export function findingBehaviour(kind: string, factory: FindingFactory): void {
  const it = (name: string, fn: (queue: Queue) => Promise<void>) =>
    test(name, async () => {
      const { queue, cleanup } = await factory();
      try {
        await fn(queue);
      } finally {
        await queue.close();
        await cleanup();
      }
    });

  describe(`finding and fixing many jobs: ${kind}`, () => {
    it('retryMany of 2,500 failed jobs: chunks of at most 1,000 jobs a statement, the count returned, every job pending again', async (queue) => {
      await failedJobs(queue, 'x', 2_500);
      await failedJobs(queue, 'y', 10);
      assert.equal(await queue.countJobs({ status: 'failed', name: 'x' }), 2_500);
      const before = queue.stats();
      assert.equal(await queue.retryMany({ status: 'failed', name: 'x' }), 2_500);
      const chunks = (queue.stats().byMethod.bulk ?? 0) - (before.byMethod.bulk ?? 0);
      assert.ok(chunks >= 3 && chunks <= 4 + (kind === 'sqlite' ? 4 : 0), `2,500 jobs in ${chunks} statements`);
      assert.deepEqual(await queue.counts({ name: 'x' }), { pending: 2_500, running: 0, completed: 0, failed: 0, cancelled: 0 });
      assert.deepEqual(await queue.counts({ name: 'y' }), { pending: 0, running: 0, completed: 0, failed: 10, cancelled: 0 });
      assert.equal(await queue.retryMany({ status: 'failed', name: 'x' }), 0, 'nothing left to retry');
    });

    it('cancelMany cancels pending jobs and aborts the running ones of this process at once', async (queue) => {
      let aborted = 0;
      const worker = queue.worker(
        { long: (_job, ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => { aborted++; resolve(); })) },
        { concurrency: 2, pollMs: 20, progressFlushMs: 10_000 },
      );
      await queue.addBulk(Array.from({ length: 5 }, () => ({ name: 'long' })));
      await worker.start();
      await waitFor(() => worker.stats().running === 2, 'two running');
      const started = performance.now();
      assert.equal(await queue.cancelMany({ name: 'long' }), 5);
      await waitFor(() => aborted === 2, 'both handlers aborted', 5_000);
      assert.ok(performance.now() - started < 2_000, 'at once, not at the next tick (10 s)');
      await waitFor(async () => (await queue.counts({ name: 'long' })).cancelled === 5, 'all five cancelled');
      await worker.stop();
    });

    it('deleteMany and countJobs with a data filter touch only the jobs whose data contains it', async (queue) => {
      const ids = await queue.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: 'scan', data: { repo: i % 3 === 0 ? 'a/b' : 'c/d', n: i } })));
      assert.equal(await queue.countJobs({ data: { repo: 'a/b' } }), 4);
      assert.equal(await queue.countJobs({ name: 'scan', status: 'pending', data: { repo: 'a/b' } }), 4);
      const page = await queue.listJobs({ data: { repo: 'a/b' }, limit: 3 });
      assert.deepEqual(page.map((j) => (j.data as { n: number }).n), [9, 6, 3]);
      const next = await queue.listPage({ data: { repo: 'a/b' }, limit: 3, cursor: page[2]!.id });
      assert.deepEqual(next.jobs.map((j) => (j.data as { n: number }).n), [0]);
      assert.equal(next.nextCursor, null);
      assert.equal(await queue.deleteMany({ data: { repo: 'a/b' } }), 4);
      assert.equal(await queue.getJob(ids[0]!), null);
      assert.ok(await queue.getJob(ids[1]!));
      assert.equal(await queue.countJobs({}), 8);
    });

    it('bad filters are refused with a typed error and nothing is written', async (queue) => {
      await failedJobs(queue, 'z', 3);
      const writes = writesSent(queue);
      await assert.rejects(queue.retryMany({ status: 'pending' }), (e: unknown) => e instanceof ValidationError && /"pending" cannot be retried; give failed or cancelled/.test(e.message));
      await assert.rejects(queue.cancelMany({ status: 'completed' }), /cannot be cancelled; give pending or running/);
      await assert.rejects(queue.deleteMany({ data: [1] as never }), /filter\.data must be a JSON object/);
      await assert.rejects(queue.deleteMany({ data: { 'a"b': 1 } }), /keys must be non-empty, without quotes/);
      await assert.rejects(queue.deleteMany({ data: { a: Number.NaN } }), /NaN, which JSON cannot hold/);
      await assert.rejects(queue.retryMany({ stauts: 'failed' } as never), /unknown option "stauts" \(did you mean "status"\?\)/);
      await assert.rejects(queue.listJobs({ data: { a: 1 }, offset: 5 }), /offset cannot be used with data/);
      await assert.rejects(queue.listPage({ cursor: 'abc' }), /cursor must be a job id/);
      await assert.rejects(queue.listPage({ scan: 10 }), /scan must be at least 1000/);
      assert.equal(writesSent(queue), writes);
      assert.equal(await queue.countJobs({ status: 'failed' }), 3);
    });

    it('job.errors: a handler that fails twice and then succeeds shows both failures, oldest first', async (queue) => {
      let calls = 0;
      const worker = queue.worker(
        {
          flaky: async () => {
            calls++;
            if (calls <= 2) throw new Error(`flake ${calls}`);
            return 'ok';
          },
        },
        { pollMs: 10 },
      );
      const id = await queue.add('flaky', null, { maxAttempts: 5, backoff: { type: 'fixed', delay: 0 } });
      await worker.start();
      const done = await queue.waitFor(id, { timeout: 10_000 });
      await worker.stop();
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.errors.map((e: Job['errors'][number]) => [e.attempt, e.message, e.workerId]), [[1, 'flake 1', worker.id], [2, 'flake 2', worker.id]]);
      assert.match(done.errors[0]!.stack!, /Error: flake 1/);
      assert.ok(done.errors[0]!.at instanceof Date);
    });
  });
}
