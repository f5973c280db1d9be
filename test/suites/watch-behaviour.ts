import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  JobFailedError, JobNotFoundError, ValidationError, WaitTimeoutError, type Job, type Logger, type Queue, type WatchEvent,
} from '../../src/index.ts';
import { type Fixture, killAll, spawnFixture } from '../support/children.ts';
import { waitFor } from '../support/wait.ts';

/** One fresh database: its URL (and PostgreSQL schema) for child processes, and queues opened on it here. */
export interface FeedDatabase {
  url: string;
  schema?: string;
  open(options?: { logger?: Logger }): Promise<Queue>;
  cleanup(): Promise<void>;
}

/**
 * queue.watch() and queue.waitFor() as a user sees them: changes made by other REAL processes (a worker in a
 * child process, a producer in another), on any store.
 */
export function watchBehaviour(kind: string, factory: () => Promise<FeedDatabase>): void {
  async function setup() {
    const db = await factory();
    const queues: Queue[] = [];
    const children: Fixture[] = [];
    const open = async (options?: { logger?: Logger }) => {
      const q = await db.open(options);
      queues.push(q);
      return q;
    };
    const env = { SPOOL_TEST_URL: db.url, ...(db.schema ? { SPOOL_TEST_SCHEMA: db.schema } : {}) };
    return {
      queue: await open(),
      open,
      /** Starts test/fixtures/feed-worker.ts in its own process; resolves with its worker id once it runs. */
      async startWorker(settings: Record<string, string> = {}): Promise<{ fixture: Fixture; workerId: string }> {
        const fixture = spawnFixture('feed-worker.ts', { ...env, ...settings });
        children.push(fixture);
        const line = await fixture.waitForLine((l) => l.startsWith('ready '), 'the worker process to start');
        return { fixture, workerId: line.slice('ready '.length) };
      },
      /** Adds jobs from another process (test/fixtures/pg-add.ts); resolves with their ids. */
      async addElsewhere(jobs: { name: string; data?: unknown; options?: object }[]): Promise<string[]> {
        const fixture = spawnFixture('pg-add.ts', { ...env, JOBS: JSON.stringify(jobs) });
        children.push(fixture);
        const line = await fixture.waitForLine((l) => l.startsWith('added '), 'the producer process');
        assert.equal(await fixture.exited, 0, fixture.stderr());
        return line.slice('added '.length).split(',');
      },
      async teardown() {
        for (const child of children) await child.stop();
        await killAll(children);
        await Promise.all(queues.map((q) => q.close()));
        await db.cleanup();
      },
    };
  }
  const it = (name: string, fn: (ctx: Awaited<ReturnType<typeof setup>>) => Promise<void>) =>
    test(name, async () => {
      const ctx = await setup();
      try {
        await fn(ctx);
      } finally {
        await ctx.teardown();
      }
    });
  const RANK = ['added', 'started', 'progress', 'completed'];

  describe(`queue.watch and queue.waitFor: ${kind}`, () => {
    it('a watcher here sees a job started, progressing and completed by a worker in another process', async ({ queue, startWorker }) => {
      const events: WatchEvent[] = [];
      queue.watch((e) => events.push(e), { names: ['steps'] });
      const { fixture, workerId } = await startWorker({ STEPS: '6', STEP_MS: '60', PROGRESS_MS: '50' });
      const id = await queue.add('steps', { repo: 'a/b' });
      await waitFor(() => events.some((e) => e.type === 'completed' && e.job.id === id), 'the completed event', 20_000);
      const mine = events.filter((e) => e.job.id === id);
      const last = mine.at(-1)!;
      assert.equal(last.type, 'completed');
      assert.equal(last.job.status, 'completed');
      assert.deepEqual((last.job as Job).result, { by: fixture.child.pid });
      assert.equal((last.job as Job).processingBy, workerId, 'the other process ran it');
      const progress = mine.filter((e) => e.type === 'progress').map((e) => ((e.job as Job).progress as { step: number }).step);
      assert.ok(progress.length >= 2, `progress seen while it ran: ${JSON.stringify(progress)}`);
      assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
      const ranks = mine.map((e) => RANK.indexOf(e.type));
      assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `events in life order: ${mine.map((e) => e.type).join(', ')}`);
      // An event carries the job as the feed read it, which may be a moment after the change (the feed reads the
      // rows a notification names): an 'added' job may already run by then, never be back in an earlier state.
      const LIFE = ['pending', 'running', 'completed'];
      for (const e of mine) {
        if (e.type === 'deleted') continue;
        const least = { added: 'pending', started: 'running', progress: 'running', completed: 'completed' }[e.type as 'added'];
        assert.ok(LIFE.indexOf(e.job.status) >= LIFE.indexOf(least), `a ${e.type} event carried a ${e.job.status} job`);
      }
    });

    it('jobs added by another process reach a watcher here, read in one statement per batch', async ({ queue, addElsewhere }) => {
      const events: WatchEvent[] = [];
      queue.watch((e) => events.push(e));
      await (queue.store as { listening?: () => Promise<void> }).listening?.();
      const before = queue.stats().byMethod.watch ?? 0;
      const ids = await addElsewhere(Array.from({ length: 300 }, (_, i) => ({ name: 'elsewhere', data: { i } })));
      await waitFor(() => events.filter((e) => e.type === 'added').length === 300, '300 added events', 20_000);
      assert.deepEqual(events.map((e) => e.job.id).sort(), [...ids].sort());
      assert.deepEqual((events[0]!.job as Job).data, { i: 0 });
      const reads = (queue.stats().byMethod.watch ?? 0) - before;
      assert.ok(reads <= 3, `300 jobs added in one statement elsewhere were read in ${reads} statements`);
    });

    it('waitFor resolves with a job another process completed, and rejects with JobFailedError for one it failed', async ({ queue, startWorker }) => {
      const { fixture } = await startWorker({ STEPS: '2', STEP_MS: '10' });
      const ok = await queue.add('steps');
      const bad = await queue.add('broken', null, { maxAttempts: 1 });
      const done = await queue.waitFor(ok, { timeout: 20_000 });
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, { by: fixture.child.pid });
      await assert.rejects(queue.waitFor(bad, { timeout: 20_000 }), (e: unknown) => {
        assert.ok(e instanceof JobFailedError);
        assert.equal(e.jobId, bad);
        assert.equal(e.status, 'failed');
        assert.equal(e.job.error, 'broken on purpose');
        assert.match(e.message, /failed after 1 of 1 attempts: broken on purpose/);
        return true;
      });
      // Already finished: answered from the first read.
      assert.equal((await queue.waitFor(ok)).id, ok);
    });

    it('waitFor: cancelled → JobFailedError, deleted or unknown → JobNotFoundError, timeout → WaitTimeoutError, bad input → ValidationError', async ({ queue, open }) => {
      const other = await open();
      const [a, b, c] = await queue.addBulk([{ name: 'nobody' }, { name: 'nobody' }, { name: 'nobody' }]);
      const cancelled = assert.rejects(queue.waitFor(a!), (e: unknown) => e instanceof JobFailedError && e.status === 'cancelled' && /was cancelled/.test(e.message));
      const deleted = assert.rejects(queue.waitFor(b!), JobNotFoundError);
      await other.cancel(a!);
      await other.delete(b!);
      await Promise.all([cancelled, deleted]);
      await assert.rejects(queue.waitFor('424242'), JobNotFoundError);
      await assert.rejects(queue.waitFor(c!, { timeout: 50 }), (e: unknown) => e instanceof WaitTimeoutError && /within 50 ms.*it is pending/.test(e.message));
      await assert.rejects(queue.waitFor(c!, { timeout: -1 }), ValidationError);
      await assert.rejects(queue.waitFor(c!, { timout: 5 } as never), /unknown option "timout" \(did you mean "timeout"\?\)/);
      await assert.rejects(queue.waitFor(42 as never), ValidationError);
      assert.throws(() => queue.watch('x' as never), ValidationError);
      assert.throws(() => queue.watch(() => {}, { names: ['bad name!'] }), /options\.names\.0 may contain only/);
      assert.throws(() => queue.watch(() => {}, { idz: [] } as never), /unknown option "idz"/);
    });

    it('filters: a watcher of names hears only those names, a watcher of ids only those jobs; deletes say id and name', async ({ queue, open }) => {
      const other = await open();
      const byName: WatchEvent[] = [];
      const byId: WatchEvent[] = [];
      const [x] = await queue.addBulk([{ name: 'x' }]);
      queue.watch((e) => byName.push(e), { names: ['a'] });
      queue.watch((e) => byId.push(e), { ids: [x!] });
      await (queue.store as { listening?: () => Promise<void> }).listening?.();
      const [a] = await other.addBulk([{ name: 'a' }, { name: 'b' }]);
      await other.delete(x!);
      await other.cancel(a!);
      await waitFor(() => byName.some((e) => e.type === 'cancelled') && byId.length === 1, 'both watchers', 10_000);
      // 'added' may be folded into 'cancelled' when both land between two reads: a watcher sees a job's latest change.
      assert.deepEqual(byName.at(-1)!.job.id, a);
      assert.deepEqual(byName.map((e) => e.type).filter((t) => t !== 'added'), ['cancelled']);
      assert.ok(byName.every((e) => e.job.name === 'a'));
      assert.deepEqual(byId.map((e) => [e.type, e.job]), [['deleted', { id: x, name: 'x' }]]);
    });

    it('a listener that throws is logged and the others still hear; the last unsubscribe stops reading', async ({ open }) => {
      const errors: string[] = [];
      const logger: Logger = { debug() {}, info() {}, warn() {}, error: (m) => void errors.push(m) };
      const queue = await open({ logger });
      const heard: string[] = [];
      const offA = queue.watch(() => {
        throw new Error('listener bug');
      });
      const offB = queue.watch((e) => heard.push(e.job.id));
      await (queue.store as { listening?: () => Promise<void> }).listening?.();
      const id = await queue.add('n');
      await waitFor(() => heard.includes(id), 'the second listener');
      assert.ok(errors.some((m) => m.includes('listener bug')));
      offA();
      offB();
      await new Promise((r) => setTimeout(r, 100));
      const reads = queue.stats().byMethod.watch ?? 0;
      await queue.addBulk([{ name: 'n' }, { name: 'n' }]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(queue.stats().byMethod.watch ?? 0, reads, 'no reads once nobody watches');
    });
  });
}
