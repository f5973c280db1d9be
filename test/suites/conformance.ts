import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JobNotFoundError, JobStateError } from '../../src/errors.ts';
import type { NewJob, Store, StoreStats } from '../../src/store/store.ts';

/** Builds a fresh, empty store (own file or schema) and tears it down. */
export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const T0 = Date.UTC(2030, 0, 1);

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const LEASE = 30_000;

function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    name: 'work',
    dataJson: '{"n":1}',
    priority: 0,
    runAt: T0,
    maxAttempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    timeout: null,
    uniqueKey: null,
    ...overrides,
  };
}

/**
 * Statements a call sent since `before`, besides the change journal: SQLite appends one journal row to each
 * write transaction (the change feed and the exact counters; src/store/sqlite/journal.ts), PostgreSQL none.
 * Asserts that the journal took at most one statement per round trip.
 */
export function sentSince(store: Store, before: StoreStats): number {
  const after = store.stats();
  const journal = (after.byMethod.journal ?? 0) - (before.byMethod.journal ?? 0);
  assert.ok(journal <= after.roundTrips - before.roundTrips, `journal rows ${journal} > round trips ${after.roundTrips - before.roundTrips}`);
  return after.statements - before.statements - journal;
}

/**
 * The behaviour every Store must show, written against the interface alone with explicit times,
 * so each store runs it unchanged. A behaviour is done when every store passes.
 */
export function storeConformance(kind: string, factory: StoreFactory): void {
  async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
    const { store, cleanup } = await factory();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  }
  const it = (name: string, fn: (store: Store) => Promise<void>) => test(name, () => withStore(fn));
  const claimOne = async (store: Store, workerId = 'w1', now = T0, names = ['work']) => {
    const { jobs } = await store.claim({ names, limit: 1, workerId, leaseMs: LEASE, now });
    assert.equal(jobs.length, 1, 'expected to claim one job');
    return jobs[0]!;
  };

  describe(`Store conformance: ${kind}`, () => {
    describe('enqueue', () => {
      it('enqueue of many jobs is one statement and returns ids in input order', async (store) => {
        const before = store.stats();
        const ids = await store.enqueue({ jobs: Array.from({ length: 250 }, (_, i) => newJob({ dataJson: String(i) })), now: T0 });
        assert.equal(sentSince(store, before), 1);
        assert.equal(new Set(ids).size, 250);
        for (const [i, id] of ids.entries()) assert.equal((await store.get(id))!.data, i);
      });

      it('a stored job has the given fields and the defaults of a new job', async (store) => {
        const [id] = await store.enqueue({
          jobs: [newJob({ name: 'mail', dataJson: '{"to":"ü@x","n":[1,2.5,null]}', priority: 7, maxAttempts: 5, timeout: 900, uniqueKey: 'k' })],
          now: T0,
        });
        const job = (await store.get(id!))!;
        assert.deepEqual(
          { ...job, createdAt: job.createdAt.getTime(), runAt: job.runAt.getTime() },
          {
            id, name: 'mail', data: { to: 'ü@x', n: [1, 2.5, null] }, status: 'pending', priority: 7, attempts: 0, maxAttempts: 5,
            progress: null, result: null, error: null, errorStack: null, runAt: T0, createdAt: T0, startedAt: null,
            completedAt: null, processingBy: null, uniqueKey: 'k', backoff: { type: 'exponential', delay: 1000 },
            timeout: 900, leaseUntil: null, cancelRequested: false, errors: [], traceContext: null, parentId: null,
          },
        );
      });

      it("the producer's trace context is stored with the job and handed to the claim", async (store) => {
        const carrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'x=1' };
        const [id] = await store.enqueue({ jobs: [newJob({ traceContext: JSON.stringify(carrier) })], now: T0 });
        assert.deepEqual((await store.get(id!))!.traceContext, carrier);
        assert.deepEqual((await claimOne(store)).traceContext, carrier);
      });

      it('uniqueKey: a second pending job with the key returns the first id, also within one batch', async (store) => {
        const [a] = await store.enqueue({ jobs: [newJob({ uniqueKey: 'scan:a' })], now: T0 });
        const ids = await store.enqueue({
          jobs: [newJob({ uniqueKey: 'scan:b' }), newJob({ uniqueKey: 'scan:a' }), newJob(), newJob({ uniqueKey: 'scan:b' })],
          now: T0,
        });
        assert.equal(ids[1], a);
        assert.equal(ids[3], ids[0]);
        assert.notEqual(ids[2], ids[0]);
        assert.equal((await store.counts({})).pending, 3);
      });

      it('uniqueKey: once the holder finished, the key is free again', async (store) => {
        const [a] = await store.enqueue({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 });
        const running = await claimOne(store);
        assert.equal(running.id, a);
        const [same] = await store.enqueue({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 });
        assert.equal(same, a, 'a running holder still holds the key');
        await store.finish({ workerId: 'w1', now: T0, outcomes: [{ id: a!, status: 'completed', resultJson: 'null' }] });
        const [b] = await store.enqueue({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 });
        assert.notEqual(b, a);
      });
    });

    describe('claim', () => {
      it('claims by priority (higher first), then runAt, then insertion order', async (store) => {
        const ids = await store.enqueue({
          jobs: [
            newJob({ dataJson: '"low-early"', priority: 0, runAt: T0 - 10 }),
            newJob({ dataJson: '"high-late"', priority: 5, runAt: T0 - 1 }),
            newJob({ dataJson: '"low-first"', priority: 0, runAt: T0 - 20 }),
            newJob({ dataJson: '"high-early"', priority: 5, runAt: T0 - 5 }),
            newJob({ dataJson: '"low-early-2"', priority: 0, runAt: T0 - 10 }),
            newJob({ dataJson: '"negative"', priority: -3, runAt: T0 - 100 }),
          ],
          now: T0,
        });
        const order: unknown[] = [];
        for (let i = 0; i < 6; i++) order.push((await claimOne(store)).data);
        assert.deepEqual(order, ['high-early', 'high-late', 'low-first', 'low-early', 'low-early-2', 'negative']);
        assert.equal(ids.length, 6);
      });

      it('a batch claim returns jobs in claim order, up to the limit, in one statement', async (store) => {
        await store.enqueue({ jobs: Array.from({ length: 10 }, (_, i) => newJob({ priority: i % 3, dataJson: String(i) })), now: T0 });
        const before = store.stats();
        const { jobs } = await store.claim({ names: ['work'], limit: 4, workerId: 'w1', leaseMs: LEASE, now: T0 });
        assert.equal(sentSince(store, before), 1);
        assert.deepEqual(jobs.map((j) => j.data), [2, 5, 8, 1]);
      });

      it('marks claimed jobs running: attempts + 1, worker, lease, startedAt', async (store) => {
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const job = await claimOne(store, 'w9', T0 + 5);
        assert.equal(job.status, 'running');
        assert.equal(job.attempts, 1);
        assert.equal(job.processingBy, 'w9');
        assert.equal(job.leaseUntil!.getTime(), T0 + 5 + LEASE);
        assert.equal(job.startedAt!.getTime(), T0 + 5);
        assert.equal((await store.get(job.id))!.status, 'running');
      });

      it('skips jobs not yet due and jobs of other names', async (store) => {
        await store.enqueue({ jobs: [newJob({ runAt: T0 + 1000 }), newJob({ name: 'other' })], now: T0 });
        assert.equal((await store.claim({ names: ['work'], limit: 5, workerId: 'w', leaseMs: LEASE, now: T0 })).jobs.length, 0);
        const later = await store.claim({ names: ['work'], limit: 5, workerId: 'w', leaseMs: LEASE, now: T0 + 1000 });
        assert.equal(later.jobs.length, 1);
        const other = await store.claim({ names: ['work', 'other'], limit: 5, workerId: 'w', leaseMs: LEASE, now: T0 });
        assert.deepEqual(other.jobs.map((j) => j.name), ['other']);
      });

      it('never hands one job to two claims', async (store) => {
        await store.enqueue({ jobs: Array.from({ length: 30 }, () => newJob()), now: T0 });
        const claims = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.claim({ names: ['work'], limit: 7, workerId: `w${i}`, leaseMs: LEASE, now: T0 })),
        );
        const ids = claims.flatMap((c) => c.jobs.map((j) => j.id));
        assert.equal(ids.length, 30);
        assert.equal(new Set(ids).size, 30);
      });

      it('takes back a job whose lease ran out; the old worker learns it lost the job and cannot finish it', async (store) => {
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const first = await claimOne(store, 'dead');
        assert.equal((await store.claim({ names: ['work'], limit: 1, workerId: 'w2', leaseMs: LEASE, now: T0 + LEASE - 1 })).jobs.length, 0);
        const again = await claimOne(store, 'w2', T0 + LEASE + 1);
        assert.equal(again.id, first.id);
        assert.equal(again.attempts, 2, 'the lost attempt counts');
        const tick = await store.tick({ workerId: 'dead', leaseMs: LEASE, now: T0 + LEASE + 2, running: [first.id], progress: [] });
        assert.deepEqual(tick.lost, [first.id]);
        const applied = await store.finish({ workerId: 'dead', now: T0 + LEASE + 3, outcomes: [{ id: first.id, status: 'completed', resultJson: '1' }] });
        assert.deepEqual(applied.finished, []);
        assert.equal((await store.get(first.id))!.status, 'running');
        assert.equal((await store.get(first.id))!.processingBy, 'w2');
      });

      it('a job that lost its last attempt with its worker fails with attempts = maxAttempts, not one more', async (store) => {
        await store.enqueue({ jobs: [newJob({ maxAttempts: 1 })], now: T0 });
        await claimOne(store, 'dead');
        // The taker is handed the job (so it can fail it) with attempts 2 of 1, and writes the failure.
        const again = await claimOne(store, 'w2', T0 + LEASE + 1);
        assert.equal(again.attempts, 2);
        await store.finish({ workerId: 'w2', now: T0 + LEASE + 2, outcomes: [{ id: again.id, status: 'failed', error: 'lease expired on the last attempt', errorStack: null }] });
        const failed = (await store.get(again.id))!;
        assert.equal(failed.status, 'failed');
        assert.equal(failed.attempts, 1, 'a failed job never shows more attempts than it was allowed');
      });

      it('carries a batch of outcomes in the same round trip as the next claim', async (store) => {
        await store.enqueue({ jobs: [newJob(), newJob(), newJob()], now: T0 });
        const a = await claimOne(store);
        const before = store.stats();
        const { jobs, finished } = await store.claim({
          names: ['work'], limit: 2, workerId: 'w1', leaseMs: LEASE, now: T0 + 1,
          finish: [{ id: a.id, status: 'completed', resultJson: '"done"' }],
        });
        assert.equal(store.stats().roundTrips - before.roundTrips, 1);
        assert.deepEqual(finished, [a.id]);
        assert.equal(jobs.length, 2);
        assert.equal((await store.get(a.id))!.status, 'completed');
      });
    });

    describe('tick', () => {
      it('one statement extends every lease, writes changed progress and reports cancel requests', async (store) => {
        await store.enqueue({ jobs: [newJob(), newJob(), newJob()], now: T0 });
        const { jobs } = await store.claim({ names: ['work'], limit: 3, workerId: 'w1', leaseMs: LEASE, now: T0 });
        const [a, b, c] = jobs as [typeof jobs[0], typeof jobs[0], typeof jobs[0]];
        await store.transition({ id: b.id, op: 'cancel', now: T0 + 1 });
        const before = store.stats();
        const result = await store.tick({
          workerId: 'w1', leaseMs: LEASE, now: T0 + 10_000,
          running: [a.id, b.id, c.id], progress: [{ id: a.id, json: '{"expert":3,"of":11}' }, { id: c.id, json: '"half"' }],
        });
        assert.equal(sentSince(store, before), 1);
        assert.deepEqual(result, { cancelled: [b.id], lost: [] });
        const [ja, jb, jc] = await Promise.all([a, b, c].map((j) => store.get(j.id)));
        assert.deepEqual(ja!.progress, { expert: 3, of: 11 });
        assert.equal(jb!.progress, null);
        assert.equal(jc!.progress, 'half');
        for (const j of [ja, jb, jc]) assert.equal(j!.leaseUntil!.getTime(), T0 + 10_000 + LEASE);
      });

      it('reports deleted jobs as lost', async (store) => {
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const job = await claimOne(store);
        await store.transition({ id: job.id, op: 'delete', now: T0 });
        const result = await store.tick({ workerId: 'w1', leaseMs: LEASE, now: T0, running: [job.id], progress: [] });
        assert.deepEqual(result, { cancelled: [], lost: [job.id] });
      });
    });

    describe('finish', () => {
      it('writes completed, retry, failed, cancelled and released outcomes in at most two statements', async (store) => {
        await store.enqueue({ jobs: Array.from({ length: 5 }, () => newJob()), now: T0 });
        const { jobs } = await store.claim({ names: ['work'], limit: 5, workerId: 'w1', leaseMs: LEASE, now: T0 });
        const [done, again, dead, stopped, released] = jobs.map((j) => j.id) as [string, string, string, string, string];
        const before = store.stats();
        const applied = await store.finish({
          workerId: 'w1', now: T0 + 50,
          outcomes: [
            { id: done, status: 'completed', resultJson: '{"findings":4}', progressJson: '{"expert":11}' },
            { id: again, status: 'retry', runAt: T0 + 2000, error: 'boom', errorStack: 'Error: boom\n  at x' },
            { id: dead, status: 'failed', error: 'fatal', errorStack: null },
            { id: stopped, status: 'cancelled', error: 'cancelled by request' },
            { id: released, status: 'released' },
          ],
        });
        assert.ok(sentSince(store, before) <= 2, 'completions may take a statement of their own');
        assert.deepEqual([...applied.finished].sort(), [done, again, dead, stopped, released].sort());
        assert.deepEqual(applied.cancelled, []);
        const get = async (id: string) => (await store.get(id))!;
        const c = await get(done);
        assert.equal(c.status, 'completed');
        assert.deepEqual(c.result, { findings: 4 });
        assert.deepEqual(c.progress, { expert: 11 });
        assert.equal(c.completedAt!.getTime(), T0 + 50);
        assert.equal(c.leaseUntil, null);
        const r = await get(again);
        assert.equal(r.status, 'pending');
        assert.equal(r.runAt.getTime(), T0 + 2000);
        assert.equal(r.error, 'boom');
        assert.equal(r.errorStack, 'Error: boom\n  at x');
        assert.equal(r.attempts, 1);
        assert.equal(r.completedAt, null);
        const f = await get(dead);
        assert.equal(f.status, 'failed');
        assert.equal(f.error, 'fatal');
        assert.equal(f.completedAt!.getTime(), T0 + 50);
        assert.equal((await get(stopped)).status, 'cancelled');
        const rel = await get(released);
        assert.equal(rel.status, 'pending');
        assert.equal(rel.attempts, 0, 'a released job has not spent its attempt');
      });

      it('job.errors keeps the last 20 failed attempts, written by the finish and by the claim of an expired lease', async (store) => {
        const [id] = await store.enqueue({ jobs: [newJob({ maxAttempts: 40 })], now: T0 });
        let t = T0;
        for (let i = 1; i <= 22; i++) {
          await claimOne(store, `w${i}`, t);
          const before = store.stats();
          await store.finish({ workerId: `w${i}`, now: t + 1, outcomes: [{ id: id!, status: 'retry', runAt: t + 2, error: `boom ${i}`, errorStack: i % 2 ? `Error: boom ${i}\n  at x` : null }] });
          assert.equal(sentSince(store, before), 1, 'the failure and its history in one statement');
          t += 2;
        }
        let job = (await store.get(id!))!;
        assert.equal(job.errors.length, 20);
        assert.deepEqual(job.errors[0], { attempt: 3, at: new Date(T0 + 2 * 2 + 1), message: 'boom 3', stack: 'Error: boom 3\n  at x', workerId: 'w3' });
        assert.deepEqual(job.errors.at(-1), { attempt: 22, at: new Date(t - 1), message: 'boom 22', stack: null, workerId: 'w22' });
        // An attempt lost with its worker: recorded when another worker takes the job back.
        await claimOne(store, 'dead', t);
        await claimOne(store, 'w2', t + LEASE + 1);
        job = (await store.get(id!))!;
        assert.equal(job.errors.length, 20);
        assert.equal(job.errors.at(-1)!.attempt, 23);
        assert.equal(job.errors.at(-1)!.workerId, 'dead');
        assert.match(job.errors.at(-1)!.message, /lease expired: worker dead stopped renewing it/);
        assert.deepEqual(job.errors.at(-1)!.at, new Date(t + LEASE + 1));
        await store.finish({ workerId: 'w2', now: t + LEASE + 2, outcomes: [{ id: id!, status: 'failed', error: 'final', errorStack: null }] });
        job = (await store.get(id!))!;
        assert.equal(job.status, 'failed');
        assert.deepEqual(job.errors.map((e) => e.message).slice(-2), [job.errors.at(-2)!.message, 'final']);
        assert.equal(job.errors.at(-1)!.attempt, 24);
        const retried = (await store.transition({ id: id!, op: 'retry', now: t + LEASE + 3 }))!;
        assert.equal(retried.errors.length, 20, 'a manual retry keeps the history');
        const [other] = await store.enqueue({ jobs: [newJob()], now: T0 });
        assert.deepEqual((await store.get(other!))!.errors, []);
      });

      it('a job cancelled while its worker was dead on its last attempt ends cancelled with attempts = maxAttempts', async (store) => {
        await store.enqueue({ jobs: [newJob({ maxAttempts: 1 })], now: T0 });
        const dead = await claimOne(store, 'dead');
        await store.transition({ id: dead.id, op: 'cancel', now: T0 + 1 });
        const again = await claimOne(store, 'w2', T0 + LEASE + 1);
        assert.deepEqual([again.attempts, again.cancelRequested], [2, true], 'taken over once its lease ran out, the request still on it');
        await store.finish({ workerId: 'w2', now: T0 + LEASE + 2, outcomes: [{ id: again.id, status: 'cancelled', error: 'cancelled while its worker was gone' }] });
        const job = (await store.get(again.id))!;
        assert.deepEqual([job.status, job.attempts], ['cancelled', 1]);
      });

      it('a retry or release of a job whose cancel was requested meantime ends it cancelled; a completion stays completed', async (store) => {
        await store.enqueue({ jobs: Array.from({ length: 3 }, () => newJob()), now: T0 });
        const { jobs } = await store.claim({ names: ['work'], limit: 3, workerId: 'w1', leaseMs: LEASE, now: T0 });
        const [retried, released, completed] = jobs.map((j) => j.id) as [string, string, string];
        for (const id of [retried, released, completed]) await store.transition({ id, op: 'cancel', now: T0 + 10 });
        const outcomes = [
          { id: retried, status: 'retry', runAt: T0 + 2000, error: 'boom', errorStack: 'Error: boom' },
          { id: released, status: 'released' },
          { id: completed, status: 'completed', resultJson: '1' },
        ] as const;
        // The claim path carries outcomes too (SQLite carries them in the claim's transaction).
        const { finished, cancelled } = await store.claim({ names: ['work'], limit: 1, workerId: 'w1', leaseMs: LEASE, now: T0 + 20, finish: [...outcomes] });
        assert.deepEqual([...finished].sort(), [retried, released, completed].sort());
        assert.deepEqual([...cancelled].sort(), [retried, released].sort());
        const r = (await store.get(retried))!;
        assert.deepEqual([r.status, r.error, r.attempts, r.cancelRequested, r.completedAt?.getTime()], ['cancelled', 'boom', 1, false, T0 + 20]);
        const rel = (await store.get(released))!;
        assert.deepEqual([rel.status, rel.error, rel.attempts, rel.cancelRequested], ['cancelled', 'cancelled by request', 1, false]);
        assert.equal((await store.get(completed))!.status, 'completed');
        assert.deepEqual((await store.claim({ names: ['work'], limit: 5, workerId: 'w2', leaseMs: LEASE, now: T0 + 5000 })).jobs, [], 'none runs again');
      });

      it('a retried job is claimable only from its runAt', async (store) => {
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const job = await claimOne(store);
        await store.finish({ workerId: 'w1', now: T0, outcomes: [{ id: job.id, status: 'retry', runAt: T0 + 4000, error: 'e', errorStack: null }] });
        assert.equal((await store.claim({ names: ['work'], limit: 1, workerId: 'w1', leaseMs: LEASE, now: T0 + 3999 })).jobs.length, 0);
        const again = await claimOne(store, 'w1', T0 + 4000);
        assert.equal(again.attempts, 2);
      });

      it('ignores outcomes of jobs the worker does not hold', async (store) => {
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const job = await claimOne(store, 'owner');
        assert.deepEqual(await store.finish({ workerId: 'intruder', now: T0, outcomes: [{ id: job.id, status: 'completed', resultJson: '1' }] }), { finished: [], cancelled: [] });
        assert.equal((await store.get(job.id))!.status, 'running');
      });
    });

    describe('transitions', () => {
      it('retry moves a failed job back to pending with attempts reset', async (store) => {
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const job = await claimOne(store);
        await store.finish({ workerId: 'w1', now: T0, outcomes: [{ id: job.id, status: 'failed', error: 'x', errorStack: null }] });
        const retried = (await store.transition({ id: job.id, op: 'retry', now: T0 + 99 }))!;
        assert.equal(retried.status, 'pending');
        assert.equal(retried.attempts, 0);
        assert.equal(retried.error, null);
        assert.equal(retried.runAt.getTime(), T0 + 99);
        assert.equal((await claimOne(store, 'w1', T0 + 99)).id, job.id);
      });

      it('retry of a pending, running or completed job is a JobStateError; of a missing one JobNotFoundError', async (store) => {
        const [pending] = await store.enqueue({ jobs: [newJob({ name: 'idle' })], now: T0 });
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const running = await claimOne(store);
        await assert.rejects(store.transition({ id: pending!, op: 'retry', now: T0 }), JobStateError);
        await assert.rejects(store.transition({ id: running.id, op: 'retry', now: T0 }), (e: JobStateError) => e instanceof JobStateError && /running/.test(e.message));
        await store.finish({ workerId: 'w1', now: T0, outcomes: [{ id: running.id, status: 'completed', resultJson: '1' }] });
        await assert.rejects(store.transition({ id: running.id, op: 'retry', now: T0 }), /completed/);
        await assert.rejects(store.transition({ id: '999999', op: 'retry', now: T0 }), JobNotFoundError);
        await assert.rejects(store.transition({ id: 'nope', op: 'cancel', now: T0 }), JobNotFoundError);
      });

      it('retry of a failed job whose uniqueKey is held again is a JobStateError', async (store) => {
        await store.enqueue({ jobs: [newJob({ uniqueKey: 'u' })], now: T0 });
        const job = await claimOne(store);
        await store.finish({ workerId: 'w1', now: T0, outcomes: [{ id: job.id, status: 'failed', error: 'x', errorStack: null }] });
        const [holder] = await store.enqueue({ jobs: [newJob({ uniqueKey: 'u' })], now: T0 });
        await assert.rejects(store.transition({ id: job.id, op: 'retry', now: T0 }), (e: unknown) => {
          assert.ok(e instanceof JobStateError);
          assert.equal(e.status, 'failed');
          assert.match(e.message, new RegExp(`cannot retry job ${job.id}: its uniqueKey "u" is held by job ${holder}`));
          return true;
        });
        assert.equal((await store.get(job.id))!.status, 'failed');
      });

      it('cancel: a pending job is cancelled at once, a running one gets a request, a finished one refuses', async (store) => {
        const [a, b] = await store.enqueue({ jobs: [newJob({ runAt: T0 + 60_000 }), newJob()], now: T0 });
        const cancelled = (await store.transition({ id: a!, op: 'cancel', now: T0 + 1 }))!;
        assert.equal(cancelled.status, 'cancelled');
        assert.equal(cancelled.completedAt!.getTime(), T0 + 1);
        const running = await claimOne(store);
        assert.equal(running.id, b);
        const requested = (await store.transition({ id: b!, op: 'cancel', now: T0 }))!;
        assert.equal(requested.status, 'running');
        assert.equal(requested.cancelRequested, true);
        await assert.rejects(store.transition({ id: a!, op: 'cancel', now: T0 }), JobStateError);
      });

      it('a cancel request on a job whose worker died reaches the worker that takes it back', async (store) => {
        await store.enqueue({ jobs: [newJob()], now: T0 });
        const job = await claimOne(store, 'dead');
        await store.transition({ id: job.id, op: 'cancel', now: T0 });
        const again = await claimOne(store, 'w2', T0 + LEASE + 1);
        assert.equal(again.cancelRequested, true);
      });

      it('delete removes a job in any state; a missing job is JobNotFoundError', async (store) => {
        const [a, b] = await store.enqueue({ jobs: [newJob(), newJob({ name: 'x' })], now: T0 });
        await claimOne(store);
        await store.transition({ id: a!, op: 'delete', now: T0 });
        await store.transition({ id: b!, op: 'delete', now: T0 });
        assert.equal(await store.get(a!), null);
        assert.equal(await store.get(b!), null);
        await assert.rejects(store.transition({ id: a!, op: 'delete', now: T0 }), JobNotFoundError);
      });
    });

    describe('reading', () => {
      it('list returns 100 whole jobs, newest first, in ONE statement', async (store) => {
        await store.enqueue({ jobs: Array.from({ length: 150 }, (_, i) => newJob({ dataJson: `{"i":${i}}` })), now: T0 });
        const before = store.stats();
        const page = await store.list({ limit: 100, offset: 0 });
        assert.equal(sentSince(store, before), 1);
        assert.equal(store.stats().roundTrips - before.roundTrips, 1);
        assert.equal(page.length, 100);
        assert.deepEqual(page[0]!.data, { i: 149 });
        assert.deepEqual(page[99]!.data, { i: 50 });
      });

      it('list filters by status, name or both, and pages by cursor and by offset', async (store) => {
        const ids = await store.enqueue({
          jobs: Array.from({ length: 12 }, (_, i) => newJob({ name: i % 2 ? 'odd' : 'even', dataJson: String(i) })),
          now: T0,
        });
        await store.claim({ names: ['even'], limit: 2, workerId: 'w', leaseMs: LEASE, now: T0 });
        assert.deepEqual((await store.list({ name: 'odd', limit: 50, offset: 0 })).map((j) => j.data), [11, 9, 7, 5, 3, 1]);
        assert.deepEqual((await store.list({ status: 'running', limit: 50, offset: 0 })).map((j) => j.data), [2, 0]);
        assert.deepEqual((await store.list({ status: 'pending', name: 'even', limit: 50, offset: 0 })).map((j) => j.data), [10, 8, 6, 4]);
        const first = await store.list({ limit: 5, offset: 0 });
        const second = await store.list({ limit: 5, offset: 0, cursor: first[4]!.id });
        assert.deepEqual(second.map((j) => j.data), [6, 5, 4, 3, 2]);
        assert.deepEqual((await store.list({ limit: 5, offset: 5 })).map((j) => j.data), [6, 5, 4, 3, 2]);
        assert.deepEqual((await store.list({ limit: 5, offset: 0, cursor: ids[0] })).length, 0);
      });

      it('counts by status, by status of one name, and by name, one statement each', async (store) => {
        await store.enqueue({ jobs: [newJob(), newJob(), newJob({ name: 'b' })], now: T0 });
        await claimOne(store);
        const before = store.stats();
        assert.deepEqual(await store.counts({}), { pending: 2, running: 1, completed: 0, failed: 0, cancelled: 0 });
        assert.deepEqual(await store.counts({ name: 'b' }), { pending: 1, running: 0, completed: 0, failed: 0, cancelled: 0 });
        assert.deepEqual(await store.countsByName(), {
          work: { pending: 1, running: 1, completed: 0, failed: 0, cancelled: 0 },
          b: { pending: 1, running: 0, completed: 0, failed: 0, cancelled: 0 },
        });
        assert.equal(sentSince(store, before), 3);
      });

      it('getMany returns the jobs of the ids that exist, in one statement', async (store) => {
        const ids = await store.enqueue({ jobs: [newJob(), newJob(), newJob()], now: T0 });
        const before = store.stats();
        const jobs = await store.getMany([ids[2]!, '999999', ids[0]!, 'junk']);
        assert.equal(sentSince(store, before), 1);
        assert.deepEqual(jobs.map((j) => j.id).sort(), [ids[0], ids[2]].sort());
        assert.deepEqual(await store.getMany([]), []);
      });

      it('counts stay exact through every kind of write (they may come from counters, never from estimates)', async (store) => {
        const actual = async () => {
          const byName: Record<string, Record<string, number>> = {};
          for (const j of await store.list({ limit: 1000, offset: 0 })) {
            byName[j.name] ??= { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
            byName[j.name]![j.status]!++;
          }
          return byName;
        };
        const check = async (when: string) => {
          const expected = await actual();
          const byName = await store.countsByName();
          for (const name of Object.keys(byName)) if (Object.values(byName[name]!).every((n) => n === 0)) delete byName[name];
          assert.deepEqual(byName, expected, `countsByName after ${when}`);
          const total = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
          for (const c of Object.values(expected)) for (const [k, n] of Object.entries(c)) total[k as keyof typeof total] += n;
          assert.deepEqual(await store.counts({}), total, `counts after ${when}`);
          assert.deepEqual(await store.counts({ name: 'b' }), expected.b ?? { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }, `counts of b after ${when}`);
        };
        await store.enqueue({ jobs: [...Array.from({ length: 6 }, () => newJob()), newJob({ name: 'b', uniqueKey: 'u' }), newJob({ name: 'b', uniqueKey: 'u' })], now: T0 });
        await store.enqueue({ jobs: [newJob({ name: 'b', claimedBy: { workerId: 'hand', leaseUntil: T0 + LEASE } })], now: T0 });
        await check('enqueue (a unique key skipped, a job handed off)');
        const { jobs } = await store.claim({ names: ['work'], limit: 5, workerId: 'w1', leaseMs: LEASE, now: T0 });
        await check('claim');
        const reclaimed = await store.claim({ names: ['b'], limit: 5, workerId: 'w2', leaseMs: LEASE, now: T0 + LEASE + 1 });
        assert.equal(reclaimed.jobs.length, 2, 'the pending b and the lease-expired handed-off b');
        await check('a claim that took a lease-expired job back');
        const [c, r, f, x, rel] = jobs.map((j) => j.id) as [string, string, string, string, string];
        await store.tick({ workerId: 'w1', leaseMs: LEASE, now: T0 + 1, running: [c, r], progress: [{ id: c, json: '1' }] });
        await store.setProgress({ updates: [{ id: r, json: '2' }] });
        await store.finish({ workerId: 'w1', now: T0 + 2, outcomes: [
          { id: c, status: 'completed', resultJson: '1' },
          { id: r, status: 'retry', runAt: T0 + 5, error: 'e', errorStack: null },
          { id: f, status: 'failed', error: 'e', errorStack: null },
          { id: x, status: 'cancelled', error: null },
          { id: rel, status: 'released' },
        ] });
        await check('finish of every outcome');
        await store.transition({ id: f, op: 'retry', now: T0 + 3 });
        await store.transition({ id: x, op: 'retry', now: T0 + 3 });
        await check('retry of a failed and a cancelled job');
        const [pendingB] = (await store.list({ name: 'b', status: 'running', limit: 1, offset: 0 }));
        await store.transition({ id: pendingB!.id, op: 'cancel', now: T0 + 4 });
        const pending = (await store.list({ status: 'pending', limit: 1, offset: 0 }))[0]!;
        await store.transition({ id: pending.id, op: 'cancel', now: T0 + 4 });
        await store.transition({ id: c, op: 'delete', now: T0 + 4 });
        await check('cancel of a running and a pending job, delete');
        await store.finish({ workerId: 'w2', now: T0 + 5, outcomes: reclaimed.jobs.map((j) => ({ id: j.id, status: 'cancelled' as const, error: null })) });
        assert.equal(await store.prune({ statuses: ['cancelled'], before: T0 + 10, limit: 100 }), 3);
        await check('prune');
      });

      it('watchJobs: a batch of changes arrives as events with the jobs read in one statement', async (store) => {
        const events: { type: string; id: string; status?: string }[] = [];
        const stop = store.watchJobs({
          interest: () => ({ all: true, names: new Set(), ids: new Set() }),
          onChanges: (batch) => events.push(...batch.map((e) => ({ type: e.type, id: e.job.id, status: 'status' in e.job ? e.job.status : undefined }))),
          onGap: () => {},
        });
        try {
          await (store as { listening?: () => Promise<void> }).listening?.();
          const before = store.stats();
          const ids = await store.enqueue({ jobs: Array.from({ length: 50 }, () => newJob()), now: T0 });
          await waitUntil(() => events.length >= 50, '50 added events');
          assert.deepEqual(events.map((e) => e.type), Array(50).fill('added'));
          assert.deepEqual(events.map((e) => e.id).sort(), [...ids].sort());
          const reads = (store.stats().byMethod.watch ?? 0) - (before.byMethod.watch ?? 0);
          assert.ok(reads >= 1 && reads <= 2, `read in ${reads} statements`);
          events.length = 0;
          const { jobs } = await store.claim({ names: ['work'], limit: 1, workerId: 'w1', leaseMs: LEASE, now: T0 });
          await waitUntil(() => events.length >= 1, 'the started event');
          await store.finish({ workerId: 'w1', now: T0, outcomes: [{ id: jobs[0]!.id, status: 'completed', resultJson: '1' }] });
          await store.transition({ id: ids[49]!, op: 'delete', now: T0 });
          await waitUntil(() => events.length >= 3, 'the completed and deleted events');
          assert.deepEqual(events, [
            { type: 'started', id: jobs[0]!.id, status: 'running' },
            { type: 'completed', id: jobs[0]!.id, status: 'completed' },
            { type: 'deleted', id: ids[49], status: undefined },
          ]);
        } finally {
          stop();
        }
      });

      it('page with data: JSON containment of objects, arrays, scalars and nesting, type-exact', async (store) => {
        const datas: unknown[] = [
          { repo: 'a/b', n: 1 }, { repo: 'a/c' }, { repo: ['a/b'] }, { n: 1.0 }, { n: '1' }, { n: true }, { flag: true }, { flag: 1 },
          { x: null }, { y: 1 }, { tags: ['a', 'b'] }, { tags: 'a' }, { nested: { k: 2, z: 1 } }, { nested: { k: 3 } },
          { list: [{ id: 1, x: 2 }, { id: 3 }] }, { list: [{ id: 2 }] }, [1, 2], 'text', { s: 'it\'s "q" ü' }, { repo: 'a/b', tags: [] },
          { w: '50%_off \\ C:\\path\nline\u0001', t: ['x', { deep: 'y' }] }, { w: '50Xoff' },
        ];
        const ids = await store.enqueue({ jobs: datas.map((d) => newJob({ dataJson: JSON.stringify(d) })), now: T0 });
        const find = async (data: Record<string, unknown>) => {
          const before = store.stats();
          const { jobs, nextCursor } = await store.page({ filter: { data }, limit: 100, scan: 1_000_000 });
          assert.equal(sentSince(store, before), 1, 'one statement');
          assert.equal(nextCursor, null);
          return jobs.map((j) => ids.indexOf(j.id)).sort((a, b) => a - b);
        };
        assert.deepEqual(await find({ repo: 'a/b' }), [0, 19]);
        assert.deepEqual(await find({ n: 1 }), [0, 3], '1 and 1.0 alike, "1" and true not');
        assert.deepEqual(await find({ flag: true }), [6]);
        assert.deepEqual(await find({ x: null }), [8], 'null matches null, not a missing key');
        assert.deepEqual(await find({ tags: ['a'] }), [10]);
        assert.deepEqual(await find({ tags: [] }), [10, 19]);
        assert.deepEqual(await find({ nested: { k: 2 } }), [12]);
        assert.deepEqual(await find({ list: [{ id: 1 }] }), [14]);
        assert.deepEqual(await find({ list: [{ id: 3 }, { id: 1 }] }), [14]);
        assert.deepEqual(await find({ s: 'it\'s "q" ü' }), [18]);
        assert.deepEqual(await find({ repo: 'a/b', n: 1 }), [0]);
        assert.deepEqual((await find({})).length, 20, 'every object, not arrays or scalars');
        assert.deepEqual(await find({ nope: 1 }), []);
        assert.deepEqual(await find({ w: '50%_off \\ C:\\path\nline\u0001' }), [20], 'LIKE wildcards, backslashes and escapes in values are literal');
        assert.deepEqual(await find({ t: [{ deep: 'y' }] }), [20]);
        assert.deepEqual(await find({ t: ['y'] }), [], 'a string inside an object element is not an element');
      });

      it('page with data examines at most `scan` ids a call; nextCursor goes on until every match is seen', async (store) => {
        const ids = await store.enqueue({ jobs: Array.from({ length: 30 }, (_, i) => newJob({ dataJson: JSON.stringify({ hit: i % 10 === 3, i }) })), now: T0 });
        await store.enqueue({ jobs: [newJob({ name: 'other', dataJson: '{"hit":true}' })], now: T0 });
        const seen: string[] = [];
        let cursor: string | undefined;
        let calls = 0;
        for (;;) {
          const { jobs, nextCursor } = await store.page({ filter: { name: 'work', data: { hit: true } }, limit: 2, scan: 7, ...(cursor ? { cursor } : {}) });
          calls++;
          assert.ok(jobs.length <= 2);
          seen.push(...jobs.map((j) => j.id));
          if (nextCursor === null) break;
          cursor = nextCursor;
        }
        assert.deepEqual(seen, [ids[23], ids[13], ids[3]]);
        assert.ok(calls >= 5, `31 ids in windows of 7: ${calls} calls`);
        const plain = await store.page({ filter: { name: 'work' }, limit: 20, scan: 7 });
        assert.equal(plain.jobs.length, 20, 'without data no window applies');
        assert.equal(plain.nextCursor, plain.jobs[19]!.id);
      });

      it('countMatching is exact, with and without data', async (store) => {
        await store.enqueue({ jobs: [newJob({ dataJson: '{"a":1}' }), newJob({ dataJson: '{"a":2}' }), newJob({ name: 'b', dataJson: '{"a":1}' })], now: T0 });
        await claimOne(store);
        assert.equal(await store.countMatching({}), 3);
        assert.equal(await store.countMatching({ status: 'pending' }), 2);
        assert.equal(await store.countMatching({ name: 'work', status: 'running' }), 1);
        assert.equal(await store.countMatching({ data: { a: 1 } }), 2);
        assert.equal(await store.countMatching({ name: 'b', data: { a: 1 } }), 1);
        assert.equal(await store.countMatching({ status: 'failed', data: { a: 1 } }), 0);
      });

      it('bulk: retry, cancel and delete by filter, in chunks, newest first, reporting each change', async (store) => {
        const ids = await store.enqueue({ jobs: Array.from({ length: 8 }, (_, i) => newJob({ name: i < 5 ? 'a' : 'b', dataJson: JSON.stringify({ i }) })), now: T0 });
        const { jobs } = await store.claim({ names: ['a', 'b'], limit: 8, workerId: 'w1', leaseMs: LEASE, now: T0 });
        await store.finish({ workerId: 'w1', now: T0, outcomes: jobs.map((j, k) => (k < 6 ? { id: j.id, status: 'failed' as const, error: 'x', errorStack: null } : { id: j.id, status: 'cancelled' as const, error: null })) });
        const run = async (op: 'retry' | 'cancel' | 'delete', filter: Parameters<Store['bulk']>[0]['filter'], limit: number) => {
          const changed: { id: string; from: string; to: string | null }[] = [];
          let cursor: string | undefined;
          let chunks = 0;
          for (;;) {
            const before = store.stats();
            const r = await store.bulk({ op, filter, limit, scan: 1_000_000, now: T0 + 1, ...(cursor ? { cursor } : {}) });
            assert.equal(store.stats().roundTrips - before.roundTrips, 1, 'one round trip a chunk');
            assert.ok(r.changed.length <= limit);
            chunks++;
            changed.push(...r.changed.map((c) => ({ id: c.id, from: c.from, to: c.to })));
            if (r.nextCursor === null) return { changed, chunks };
            cursor = r.nextCursor;
          }
        };
        const retried = await run('retry', { name: 'a' }, 2);
        assert.deepEqual(retried.changed.map((c) => c.id), [ids[4], ids[3], ids[2], ids[1], ids[0]]);
        assert.ok(retried.changed.every((c) => c.from === 'failed' && c.to === 'pending'));
        assert.equal(retried.chunks, 3);
        assert.equal((await store.get(ids[0]!))!.attempts, 0);
        const cancelled = await run('retry', { status: 'cancelled' }, 1000);
        assert.deepEqual(cancelled.changed.map((c) => [c.id, c.from]), [[ids[7], 'cancelled'], [ids[6], 'cancelled']]);
        const running = await claimOne(store, 'w2', T0 + 2, ['a']);
        const cancels = await run('cancel', { name: 'a' }, 1000);
        assert.equal(cancels.changed.length, 5);
        assert.deepEqual(cancels.changed.find((c) => c.id === running.id), { id: running.id, from: 'running', to: 'running' });
        assert.equal((await store.get(running.id))!.cancelRequested, true);
        assert.equal((await run('cancel', { name: 'a' }, 1000)).changed.length, 0, 'a running job asked once is not asked again');
        const deleted = await run('delete', { data: { i: 5 } }, 1000);
        assert.deepEqual(deleted.changed, [{ id: ids[5], from: 'failed', to: null }]);
        assert.equal(await store.get(ids[5]!), null);
        const expected = { pending: 2, running: 1, completed: 0, failed: 0, cancelled: 4 };
        assert.deepEqual(await store.counts({}), expected, 'counts follow bulk changes');
      });

      it('bulk retry leaves a job whose uniqueKey a live job holds, and retries one of two sharing a key', async (store) => {
        const [held, twinA, twinB] = await store.enqueue({ jobs: [newJob({ uniqueKey: 'u' }), newJob({ uniqueKey: 'v' }), newJob({ uniqueKey: 'w' })], now: T0 });
        const { jobs } = await store.claim({ names: ['work'], limit: 3, workerId: 'w1', leaseMs: LEASE, now: T0 });
        await store.finish({ workerId: 'w1', now: T0, outcomes: jobs.map((j) => ({ id: j.id, status: 'failed' as const, error: 'x', errorStack: null })) });
        await store.enqueue({ jobs: [newJob({ uniqueKey: 'u' })], now: T0 });
        // Two failed jobs of one key: only one can be live again.
        const [v2] = await store.enqueue({ jobs: [newJob({ uniqueKey: 'v' })], now: T0 });
        const c = await store.claim({ names: ['work'], limit: 5, workerId: 'w1', leaseMs: LEASE, now: T0 });
        await store.finish({ workerId: 'w1', now: T0, outcomes: c.jobs.filter((j) => j.id === v2).map((j) => ({ id: j.id, status: 'failed' as const, error: 'x', errorStack: null })) });
        const r = await store.bulk({ op: 'retry', filter: {}, limit: 1000, scan: 1_000_000, now: T0 });
        const retried = r.changed.map((x) => x.id);
        assert.ok(!retried.includes(held!), 'the live holder of u keeps it');
        assert.equal([twinA, v2].filter((id) => retried.includes(id!)).length, 1, 'one of the two v jobs');
        assert.ok(retried.includes(twinB!));
        assert.equal((await store.get(held!))!.status, 'failed');
      });

      it('get of an unknown or malformed id is null', async (store) => {
        assert.equal(await store.get('424242'), null);
        assert.equal(await store.get('not-an-id'), null);
      });

      it('prune deletes finished jobs of the given statuses that finished before the cutoff, up to the limit', async (store) => {
        await store.enqueue({ jobs: Array.from({ length: 6 }, () => newJob()), now: T0 });
        const { jobs } = await store.claim({ names: ['work'], limit: 5, workerId: 'w1', leaseMs: LEASE, now: T0 });
        const [a, b, c, d, e] = jobs.map((j) => j.id) as [string, string, string, string, string];
        await store.finish({ workerId: 'w1', now: T0 + 10, outcomes: [
          { id: a, status: 'completed', resultJson: '1' },
          { id: b, status: 'completed', resultJson: '1' },
          { id: c, status: 'failed', error: 'x', errorStack: null },
        ] });
        await store.finish({ workerId: 'w1', now: T0 + 100, outcomes: [{ id: d, status: 'completed', resultJson: '1' }] });
        const before = store.stats();
        assert.equal(await store.prune({ statuses: ['completed'], before: T0 + 50, limit: 1 }), 1);
        assert.equal(await store.prune({ statuses: ['completed'], before: T0 + 50, limit: 100 }), 1);
        assert.equal(sentSince(store, before), 2);
        assert.equal(await store.get(a), null);
        assert.equal(await store.get(b), null);
        assert.ok(await store.get(c), 'failed jobs stay unless named');
        assert.ok(await store.get(d), 'finished after the cutoff');
        assert.equal((await store.get(e))!.status, 'running');
        assert.equal(await store.prune({ statuses: ['failed', 'completed'], before: T0 + 1000, limit: 100 }), 2);
        assert.deepEqual(await store.counts({}), { pending: 1, running: 1, completed: 0, failed: 0, cancelled: 0 });
      });

      it('setProgress writes pending and running jobs only, in one statement', async (store) => {
        const [a, b] = await store.enqueue({ jobs: [newJob(), newJob({ name: 'done' })], now: T0 });
        const done = await claimOne(store, 'w1', T0, ['done']);
        await store.finish({ workerId: 'w1', now: T0, outcomes: [{ id: done.id, status: 'completed', resultJson: '1' }] });
        const before = store.stats();
        const written = await store.setProgress({ updates: [{ id: a!, json: '{"p":1}' }, { id: b!, json: '{"p":2}' }] });
        assert.equal(sentSince(store, before), 1);
        assert.deepEqual(written, [a]);
        assert.deepEqual((await store.get(a!))!.progress, { p: 1 });
        assert.equal((await store.get(b!))!.progress, null);
      });
    });
  });
}
