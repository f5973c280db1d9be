import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job, Queue } from '../../src/index.ts';
import { waitFor } from '../support/wait.ts';

/** A fresh database per test: `open` gives a queue on it; `cleanup` removes it. */
export type FlowFactory = () => Promise<{ open: () => Promise<Queue>; cleanup: () => Promise<void> }>;

const FAST = { pollMs: 20, progressFlushMs: 20 };

/** Flows (docs/flows.md): a parent runs after its children, each failure policy, no parent left waiting. */
export function flowBehaviour(kind: string, factory: FlowFactory): void {
  const it = (name: string, fn: (queue: Queue, open: () => Promise<Queue>) => Promise<void>) =>
    test(name, async () => {
      const db = await factory();
      const queues: Queue[] = [];
      const open = async () => {
        const q = await db.open();
        queues.push(q);
        return q;
      };
      const queue = await open();
      try {
        await fn(queue, open);
      } finally {
        await Promise.all(queues.map((q) => q.close()));
        await db.cleanup();
      }
    });

  const settled = async (queue: Queue, id: string, what: string, timeoutMs = 10_000) => {
    let job: Job | null = null;
    await waitFor(async () => {
      job = await queue.getJob(id);
      return job !== null && ['completed', 'failed', 'cancelled'].includes(job.status);
    }, what, timeoutMs);
    return job!;
  };

  describe(`flows: ${kind}`, () => {
    it('the parent runs only after all its children completed, and reads their results in one statement', async (queue) => {
      const finished: string[] = [];
      let seen: Job[] = [];
      let statements = -1;
      const worker = queue.worker({
        expert: async (job) => {
          finished.push(job.id);
          return { n: (job.data as { n: number }).n * 10 };
        },
        summary: async (_job, ctx) => {
          // Counted under its own method: the test's own getJob() polling runs meanwhile.
          const before = queue.stats().byMethod.children ?? 0;
          seen = await ctx.children();
          statements = (queue.stats().byMethod.children ?? 0) - before;
          assert.equal(finished.length, 3, 'every child finished before the parent started');
          return { total: seen.reduce((a, c) => a + (c.result as { n: number }).n, 0) };
        },
      }, { ...FAST, concurrency: 4 });
      const { id, childIds } = await queue.addFlow({
        name: 'summary', data: {}, children: [1, 2, 3].map((n) => ({ name: 'expert', data: { n } })),
      });
      assert.equal(childIds.length, 3);
      const waiting = (await queue.getJob(id))!;
      assert.equal(waiting.status, 'pending');
      assert.deepEqual(waiting.progress, { done: 0, total: 3 });
      assert.equal((await queue.getJob(childIds[0]!))!.parentId, id);
      await worker.start();
      const parent = await settled(queue, id, 'the parent finished');
      await worker.stop();
      assert.equal(parent.status, 'completed');
      assert.deepEqual(parent.result, { total: 60 });
      assert.deepEqual(seen.map((c) => c.id), childIds);
      assert.equal(statements, 1, 'ctx.children() is one statement');
      assert.deepEqual(parent.progress, { done: 3, total: 3 });
    });

    it("'fail': a child failing for good fails the parent without running it, naming the child", async (queue) => {
      let parentRan = false;
      const worker = queue.worker({
        child: async (job) => {
          if ((job.data as { bad: boolean }).bad) throw new Error('boom');
        },
        parent: async () => void (parentRan = true),
      }, FAST);
      const { id, childIds } = await queue.addFlow({
        name: 'parent', onChildFailure: 'fail',
        children: [{ name: 'child', data: { bad: false } }, { name: 'child', data: { bad: true }, options: { maxAttempts: 1 } }],
      });
      await worker.start();
      const parent = await settled(queue, id, 'the parent failed');
      assert.equal(parent.status, 'failed');
      assert.match(parent.error!, new RegExp(`child ${childIds[1]} \\(child\\) failed: boom`));
      assert.equal(parentRan, false);
      assert.equal((await queue.counts()).failed, 2);
      await worker.stop();
    });

    it("'ignore' and 'continue': the parent runs; ctx.children() leaves ignored failures out and shows the others", async (queue) => {
      const seen = new Map<string, string[]>();
      const worker = queue.worker({
        child: async (job) => {
          if ((job.data as { bad: boolean }).bad) throw new Error('boom');
        },
        parent: async (job, ctx) => void seen.set(job.id, (await ctx.children()).map((c) => c.status)),
      }, FAST);
      const children = [{ name: 'child', data: { bad: false } }, { name: 'child', data: { bad: true }, options: { maxAttempts: 1 } }];
      const ignore = await queue.addFlow({ name: 'parent', onChildFailure: 'ignore', children });
      const cont = await queue.addFlow({ name: 'parent', onChildFailure: 'continue', children });
      await worker.start();
      assert.equal((await settled(queue, ignore.id, 'ignore parent')).status, 'completed');
      assert.equal((await settled(queue, cont.id, 'continue parent')).status, 'completed');
      await worker.stop();
      assert.deepEqual(seen.get(ignore.id), ['completed']);
      assert.deepEqual(seen.get(cont.id), ['completed', 'failed']);
      assert.equal((await queue.children(ignore.id)).length, 2, 'queue.children() shows every child');
    });

    it('a per-child onFailure overrides the flow policy', async (queue) => {
      const worker = queue.worker({
        child: async () => { throw new Error('boom'); },
        parent: async () => 'ran',
      }, FAST);
      const { id } = await queue.addFlow({
        name: 'parent', onChildFailure: 'fail',
        children: [{ name: 'child', options: { maxAttempts: 1 }, onFailure: 'ignore' }],
      });
      await worker.start();
      assert.equal((await settled(queue, id, 'parent')).status, 'completed');
      await worker.stop();
    });

    it('no parent is left waiting: cancelled and deleted children (one by one and in bulk) finish the flow', async (queue) => {
      const a = await queue.addFlow({ name: 'parent', children: [{ name: 'child' }, { name: 'child' }] });
      const b = await queue.addFlow({ name: 'parent', children: [{ name: 'other' }, { name: 'other' }, { name: 'other' }] });
      await queue.cancel(a.childIds[0]!);
      assert.deepEqual((await queue.getJob(a.id))!.progress, { done: 1, total: 2 });
      await queue.delete(a.childIds[1]!);
      const parentA = (await queue.getJob(a.id))!;
      assert.equal(parentA.status, 'pending');
      assert.ok(parentA.runAt.getTime() < Date.now() + 60_000, 'parent a is due');
      assert.equal(await queue.cancelMany({ name: 'other', status: 'pending' }), 3);
      assert.ok((await queue.getJob(b.id))!.runAt.getTime() < Date.now() + 60_000, 'parent b is due after a bulk cancel');
      const c = await queue.addFlow({ name: 'parent', children: [{ name: 'third' }, { name: 'third' }] });
      assert.equal(await queue.deleteMany({ name: 'third' }), 2);
      assert.ok((await queue.getJob(c.id))!.runAt.getTime() < Date.now() + 60_000, 'parent c is due after a bulk delete');
      const ran: string[] = [];
      const worker = queue.worker({ parent: async (job) => void ran.push(job.id) }, FAST);
      await worker.start();
      await waitFor(() => ran.length === 3, 'three parents ran');
      await worker.stop();
    });

    it('retrying the failed child of a failed parent reopens the parent; the flow goes on', async (queue) => {
      let fail = true;
      const worker = queue.worker({
        child: async () => { if (fail) throw new Error('flaky'); },
        parent: async () => 'done',
      }, FAST);
      const { id, childIds } = await queue.addFlow({ name: 'parent', children: [{ name: 'child', options: { maxAttempts: 1 } }] });
      await worker.start();
      assert.equal((await settled(queue, id, 'parent failed')).status, 'failed');
      fail = false;
      await queue.retry(childIds[0]!);
      const reopened = (await queue.getJob(id))!;
      assert.ok(['pending', 'running', 'completed'].includes(reopened.status), `reopened, got ${reopened.status}`);
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the parent ran after the retried child');
      await worker.stop();
      assert.equal((await queue.getJob(id))!.error, null);
    });

    it('a failed child retried while a sibling still runs: the parent waits for both, then runs once', async (queue) => {
      let fail = true;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let parentRuns = 0;
      const worker = queue.worker({
        flaky: async () => { if (fail) throw new Error('flaky'); },
        slow: async () => gate,
        parent: async (_job, ctx) => {
          parentRuns++;
          return (await ctx.children()).map((c) => c.status);
        },
      }, { ...FAST, concurrency: 4 });
      const { id, childIds } = await queue.addFlow({
        name: 'parent', children: [{ name: 'flaky', options: { maxAttempts: 1 } }, { name: 'slow' }],
      });
      await worker.start();
      assert.equal((await settled(queue, id, 'parent failed')).status, 'failed');
      fail = false;
      await queue.retry(childIds[0]!);
      await waitFor(async () => (await queue.getJob(childIds[0]!))!.status === 'completed', 'the retried child completed');
      const waiting = (await queue.getJob(id))!;
      assert.equal(waiting.status, 'pending', 'the parent waits for the slow sibling');
      assert.deepEqual(waiting.progress, { done: 1, total: 2 });
      release();
      const parent = await settled(queue, id, 'parent ran');
      await worker.stop();
      assert.equal(parent.status, 'completed');
      assert.deepEqual(parent.result, ['completed', 'completed']);
      assert.equal(parentRuns, 1);
    });

    it('retryMany of failed children reopens their parents', async (queue) => {
      let fail = true;
      const worker = queue.worker({ child: async () => { if (fail) throw new Error('x'); }, parent: async () => 'ok' }, FAST);
      const a = await queue.addFlow({ name: 'parent', children: [{ name: 'child', options: { maxAttempts: 1 } }, { name: 'child', options: { maxAttempts: 1 } }] });
      await worker.start();
      await settled(queue, a.id, 'parent failed');
      await waitFor(async () => (await queue.counts({ name: 'child' })).failed === 2, 'both children failed');
      fail = false;
      assert.equal(await queue.retryMany({ name: 'child', status: 'failed' }), 2);
      await waitFor(async () => (await queue.getJob(a.id))!.status === 'completed', 'the parent ran');
      await worker.stop();
    });

    it('10,000 children in one flow: addFlow costs the same statements as for 2; the parent runs once, after all', async (queue) => {
      const cost = async (n: number) => {
        const before = queue.stats().statements;
        const flow = await queue.addFlow({ name: 'parent', children: Array.from({ length: n }, (_, i) => ({ name: 'child', data: { i } })) });
        return { flow, statements: queue.stats().statements - before };
      };
      const small = await cost(2);
      await queue.deleteMany({ name: 'parent' });
      await queue.deleteMany({ name: 'child' });
      const big = await cost(10_000);
      assert.equal(big.flow.childIds.length, 10_000);
      assert.equal(big.statements, small.statements, 'statements of addFlow do not grow with the children');
      // PostgreSQL: one statement; SQLite: the parent, the children and the transaction's journal row.
      assert.ok(big.statements <= 3, `addFlow is at most three statements, got ${big.statements}`);
      assert.deepEqual((await queue.getJob(big.flow.id))!.progress, { done: 0, total: 10_000 });
      let done = 0;
      let parentSaw = -1;
      let parentRuns = 0;
      const worker = queue.worker({
        child: async () => void done++,
        parent: async () => {
          parentRuns++;
          parentSaw = done;
        },
      }, { ...FAST, concurrency: 20 });
      await worker.start();
      const parent = await settled(queue, big.flow.id, 'parent ran', 120_000);
      await worker.stop();
      assert.equal(parent.status, 'completed');
      assert.equal(parentSaw, 10_000);
      assert.equal(parentRuns, 1);
    });

    it('three queues (three pools, as three processes) drain one flow: the parent runs once, after every child', async (queue, open) => {
      const n = 2_000;
      const { id } = await queue.addFlow({ name: 'parent', children: Array.from({ length: n }, (_, i) => ({ name: 'child', data: { i } })) });
      let ran = 0;
      const parentSaw: number[] = [];
      const queues = [queue, await open(), await open()];
      const workers = queues.map((q) => q.worker({
        child: async () => void ran++,
        parent: async () => void parentSaw.push(ran),
      }, { ...FAST, concurrency: 10 }));
      await Promise.all(workers.map((w) => w.start()));
      await settled(queue, id, 'the parent ran', 60_000);
      await Promise.all(workers.map((w) => w.stop()));
      assert.deepEqual(parentSaw, [n], 'one run of the parent, after all children');
      assert.equal((await queue.counts({ name: 'child' })).completed, n);
    });

    it('finishing a batch of 50 flow children costs at most one statement more than 50 plain jobs, in the same round trip', async (queue) => {
      const store = queue.store;
      const finishCost = async (ids: string[]) => {
        const claimed = await store.claim({ names: ['child', 'plain'], limit: ids.length, workerId: 'w', leaseMs: 60_000, now: Date.now() });
        assert.deepEqual(claimed.jobs.map((j) => j.id).sort(), [...ids].sort());
        const before = store.stats();
        const result = await store.finish({ workerId: 'w', now: Date.now(), outcomes: ids.map((id) => ({ id, status: 'completed' as const, resultJson: 'null' })) });
        assert.equal(result.finished.length, ids.length);
        const after = store.stats();
        return { statements: (after.byMethod.finish ?? 0) - (before.byMethod.finish ?? 0), roundTrips: after.roundTrips - before.roundTrips };
      };
      const plain = await finishCost(await queue.addBulk(Array.from({ length: 50 }, () => ({ name: 'plain' }))));
      const flow = await queue.addFlow({ name: 'parent', children: Array.from({ length: 50 }, () => ({ name: 'child' })) });
      const children = await finishCost(flow.childIds);
      assert.ok(children.statements <= plain.statements + 1, `children ${children.statements} statements, plain ${plain.statements}`);
      assert.equal(children.roundTrips, plain.roundTrips, 'no round trip more');
      const parent = (await queue.getJob(flow.id))!;
      assert.ok(parent.runAt.getTime() <= Date.now(), 'the finish made the parent due');
      assert.deepEqual(parent.progress, { done: 50, total: 50 });
    });

    it('addFlow checks everything before writing: bad policy, uniqueKey on a child, no children', async (queue) => {
      await assert.rejects(queue.addFlow({ name: 'p', children: [{ name: 'c' }], onChildFailure: 'explode' as never }), /onChildFailure must be one of/);
      await assert.rejects(queue.addFlow({ name: 'p', children: [{ name: 'c', options: { uniqueKey: 'k' } }] }), /children\[0\]\.options\.uniqueKey/);
      await assert.rejects(queue.addFlow({ name: 'p', children: [] }), /children must be a non-empty array/);
      await assert.rejects(queue.addFlow({ name: 'p', options: { delay: 5 }, children: [{ name: 'c' }] }), /options\.delay is not taken/);
      const counts = await queue.counts();
      assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0, 'nothing written');
    });
  });
}
