import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createBatchedProgressUpdater,
  ValidationError,
  JobStateError,
  type Clock,
  type Job,
  type Logger,
  type Queue,
  type QueueEvent,
} from '../../src/index.ts';
import { type Fixture, killAll, spawnFixture } from '../support/children.ts';
import { ManualClock, nextEvent, waitFor } from '../support/wait.ts';
import type { WireCount } from '../support/wire.ts';
import { sentSince } from './conformance.ts';

/**
 * Opens queues on one fresh database (`open` again gives a second queue on it, with its own connections and
 * no local signals: what another process would have, short of being one). `wire` counts every statement the
 * queues send, where they leave the process (PostgreSQL: a TCP proxy; SQLite: the driver's trace hook), so
 * the statement bounds hold there and not only in the store's own counter. `childEnv` lets a real other
 * process open the same database (test/fixtures/queue-*.ts).
 */
export type QueueFactory = () => Promise<{
  open: (options?: OpenOptions) => Promise<Queue>;
  wire: WireCount;
  childEnv: Record<string, string>;
  cleanup: () => Promise<void>;
}>;

/** What a test may pass to openQueue besides the URL. */
export interface OpenOptions {
  clock?: Clock;
  logger?: Logger;
}

/**
 * The wire saw every statement the store counted, and no other (a query sent around the store's counter
 * shows as one more at the wire). Compared as totals since the queue opened: a window's start could fall
 * between the store counting a statement and its bytes reaching the proxy; waits up to 3 s for that lag.
 */
async function wireAgrees(queue: Queue, wire: WireCount, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (wire.statements() !== queue.stats().statements) {
    if (Date.now() > deadline) assert.equal(wire.statements(), queue.stats().statements, `${what}: statements at the wire = statements the store counted`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Small intervals so tests finish quickly; the assertions are about counts and states, not times.
const FAST = { pollMs: 20, progressFlushMs: 20 };

/**
 * What a user sees through the public API — runs, retries, backoff, timeouts, cancellation, shutdown,
 * events and the statement bounds — on any store.
 */
export function queueBehaviour(kind: string, factory: QueueFactory): void {
  async function setup(options: { clock?: ManualClock; logger?: Logger } = {}) {
    const db = await factory();
    const queues: Queue[] = [];
    const open = async (o: OpenOptions = options) => {
      const q = await db.open(o);
      queues.push(q);
      return q;
    };
    const queue = await open();
    const children: Fixture[] = [];
    return {
      queue,
      open,
      wire: db.wire,
      clock: options.clock ?? new ManualClock(),
      /** Starts a test/fixtures script in its own process on this database. */
      spawn(script: string, env: Record<string, string>) {
        const child = spawnFixture(script, { ...db.childEnv, ...env });
        children.push(child);
        return child;
      },
      async teardown() {
        await killAll(children);
        await Promise.all(queues.map((q) => q.close()));
        await db.cleanup();
      },
    };
  }
  const it = (name: string, fn: (ctx: Awaited<ReturnType<typeof setup>>) => Promise<void>, options: { clock?: ManualClock; logger?: Logger } = {}) =>
    test(name, async () => {
      const ctx = await setup(options);
      try {
        await fn(ctx);
      } finally {
        await ctx.teardown();
      }
    });

  describe(`Queue and Worker behaviour: ${kind}`, () => {
    it('a job runs once; its result is stored; added, started and completed fire in order', async ({ queue }) => {
      const seen: string[] = [];
      for (const type of ['added', 'started', 'completed'] as const) queue.on(type, (e) => seen.push(`${e.type}:${e.job.id}`));
      const worker = queue.worker({ greet: async (job) => ({ hello: (job.data as { who: string }).who }) }, FAST);
      const done = nextEvent(queue, 'completed');
      const id = await queue.add('greet', { who: 'world' });
      await worker.start();
      const event = await done;
      assert.deepEqual(event.job.result, { hello: 'world' });
      const job = (await queue.getJob(id))!;
      assert.equal(job.status, 'completed');
      assert.deepEqual(job.result, { hello: 'world' });
      assert.equal(job.attempts, 1);
      assert.equal(job.processingBy, worker.id);
      assert.deepEqual(seen, [`added:${id}`, `started:${id}`, `completed:${id}`]);
    });

    it('runs higher priority first, then the earlier runAt, then FIFO', async ({ queue }) => {
      const order: unknown[] = [];
      await queue.addBulk([
        { name: 'p', data: 'low-1' },
        { name: 'p', data: 'high', options: { priority: 10 } },
        { name: 'p', data: 'low-2' },
        { name: 'p', data: 'mid', options: { priority: 5 } },
        { name: 'p', data: 'negative', options: { priority: -1 } },
      ]);
      const worker = queue.worker({ p: async (job) => void order.push(job.data) }, { ...FAST, concurrency: 1 });
      await worker.start();
      await waitFor(async () => (await queue.counts()).completed === 5, 'five completed jobs');
      assert.deepEqual(order, ['high', 'mid', 'low-1', 'low-2', 'negative']);
    });

    it(
      'a delayed job does not run before runAt, and runs once the clock reaches it',
      async ({ queue, clock }) => {
        const id = await queue.add('later', null, { delay: 5_000 });
        assert.equal((await queue.getJob(id))!.runAt.getTime(), clock.now() + 5_000);
        const worker = queue.worker({ later: async () => 'ran' }, FAST);
        await worker.start();
        await waitFor(() => worker.stats().claims >= 2, 'two empty claims');
        assert.equal((await queue.getJob(id))!.status, 'pending');
        clock.advance(5_000);
        await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the delayed job to complete');
      },
      { clock: new ManualClock() },
    );

    it(
      'a failing job is retried with exponential backoff at the stored runAt, then lands in the dead-letter queue',
      async ({ queue, clock }) => {
        const start = clock.now();
        const retrying: QueueEvent[] = [];
        queue.on('retrying', (e) => retrying.push(e));
        const id = await queue.add('flaky', null, { maxAttempts: 3, backoff: { type: 'exponential', delay: 1_000, jitter: false } });
        const worker = queue.worker({ flaky: async (job) => { throw new Error(`boom ${job.attempts}`); } }, FAST);
        await worker.start();

        await waitFor(async () => (await queue.getJob(id))!.attempts === 1 && (await queue.getJob(id))!.status === 'pending', 'the first retry');
        let job = (await queue.getJob(id))!;
        assert.equal(job.runAt.getTime(), start + 1_000, 'first retry after delay × 2^0');
        assert.equal(job.error, 'boom 1');
        assert.match(job.errorStack!, /Error: boom 1/);

        clock.advance(1_000);
        await waitFor(async () => (await queue.getJob(id))!.attempts === 2 && (await queue.getJob(id))!.status === 'pending', 'the second retry');
        job = (await queue.getJob(id))!;
        assert.equal(job.runAt.getTime(), start + 1_000 + 2_000, 'second retry after delay × 2^1');

        const failed = nextEvent(queue, 'failed');
        clock.advance(2_000);
        assert.equal((await failed).job.id, id);
        job = (await queue.getJob(id))!;
        assert.equal(job.status, 'failed');
        assert.equal(job.attempts, 3);
        assert.equal(job.error, 'boom 3');
        assert.equal(retrying.length, 2);

        const dlq = await queue.listJobs({ status: 'failed' });
        assert.deepEqual(dlq.map((j) => j.id), [id]);
      },
      { clock: new ManualClock() },
    );

    it('retry() of a failed job resets attempts and runs it again', async ({ queue }) => {
      let fail = true;
      const worker = queue.worker({ once: async () => { if (fail) throw new Error('first time'); return 'ok'; } }, FAST);
      const id = await queue.add('once', null, { maxAttempts: 1 });
      const failed = nextEvent(queue, 'failed');
      await worker.start();
      await failed;
      fail = false;
      const retried = await queue.retry(id);
      assert.equal(retried.status, 'pending');
      assert.equal(retried.attempts, 0);
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the retried job to complete');
      assert.equal((await queue.getJob(id))!.attempts, 1);
      await assert.rejects(queue.retry(id), JobStateError);
    });

    it('an attempt that outlives its timeout fails with a message naming the timeout, its signal aborted', async ({ queue }) => {
      let sawAbort = false;
      const worker = queue.worker(
        {
          slow: (_job, ctx) =>
            new Promise((resolve) => ctx.signal.addEventListener('abort', () => { sawAbort = true; resolve('too late'); })),
        },
        FAST,
      );
      const id = await queue.add('slow', null, { timeout: 30, maxAttempts: 1 });
      const failed = nextEvent(queue, 'failed');
      await worker.start();
      await failed;
      const job = (await queue.getJob(id))!;
      assert.equal(job.status, 'failed');
      assert.match(job.error!, /timed out after 30 ms/);
      assert.equal(sawAbort, true);
    });

    it('cancel() of a running job aborts its signal at once in-process (under 2 s; the next tick is a minute away) and ends cancelled', async ({ queue }) => {
      let reason: unknown;
      let abortedAt = 0;
      const started = nextEvent(queue, 'started');
      const worker = queue.worker(
        { wait: (_job, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => { abortedAt = performance.now(); reason = ctx.signal.reason; resolve(null); })) },
        // The tick runs every min(progressFlushMs, leaseMs / 3): a minute here, so only the local signal can abort in time.
        { ...FAST, progressFlushMs: 60_000, leaseMs: 180_000 },
      );
      const id = await queue.add('wait');
      await worker.start();
      await started;
      const cancelled = nextEvent(queue, 'cancelled', () => true, 5_000);
      const asked = performance.now();
      const response = await queue.cancel(id);
      assert.equal(response.cancelRequested, true);
      await cancelled;
      assert.ok(abortedAt > 0 && abortedAt - asked < 2_000, `the signal aborted ${Math.round(abortedAt - asked)} ms after cancel()`);
      assert.equal(worker.stats().ticks, 0, 'no tick carried the cancel');
      assert.equal((await queue.getJob(id))!.status, 'cancelled');
      assert.match(String((reason as Error).message), /cancelled/);
    });

    it('cancel() from another process reaches the running job at its worker\'s next tick', async ({ queue, spawn }) => {
      const started = nextEvent(queue, 'started');
      let abortedAtTick = -1;
      const worker = queue.worker(
        { wait: (_job, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => { abortedAtTick = worker.stats().ticks; resolve(null); })) },
        FAST,
      );
      const id = await queue.add('wait');
      await worker.start();
      await started;
      const ticksBefore = worker.stats().ticks;
      // A real other process: no local signal can reach this worker, only the database.
      const other = spawn('queue-call.ts', { CALL: JSON.stringify({ method: 'cancel', args: [id] }) });
      const line = await other.waitForLine((l) => l.startsWith('result ') || l.startsWith('error '), 'the cancel in the other process');
      assert.match(line, /^result .*"cancelRequested":true/);
      assert.equal(await other.exited, 0, 'the other process ended on its own');
      await waitFor(async () => (await queue.getJob(id))!.status === 'cancelled', 'the job to end cancelled');
      assert.ok(abortedAtTick > ticksBefore, `aborted by a tick (ticks ${ticksBefore} → ${abortedAtTick})`);
    });

    it('cancel() of a pending job cancels it at once; it never runs, though the clock passes its runAt', async ({ queue, clock }) => {
      const ran: string[] = [];
      const [cancelledId, controlId] = await queue.addBulk([
        { name: 'later', data: 'cancelled', options: { delay: 60_000 } },
        { name: 'later', data: 'control', options: { delay: 60_000 } },
      ]);
      const job = await queue.cancel(cancelledId!);
      assert.equal(job.status, 'cancelled');
      const worker = queue.worker({ later: async (j) => void ran.push(j.data as string) }, FAST);
      await worker.start();
      await waitFor(() => worker.stats().claims >= 1, 'a claim before the jobs are due');
      assert.deepEqual(ran, []);
      clock.advance(60_001);
      await waitFor(async () => (await queue.getJob(controlId!))!.status === 'completed', 'the control job, now due, to run');
      const claims = worker.stats().claims;
      await waitFor(() => worker.stats().claims >= claims + 2, 'two more claims after it');
      assert.deepEqual(ran, ['control'], 'only the job that was not cancelled ran');
      assert.equal((await queue.getJob(cancelledId!))!.status, 'cancelled');
    }, { clock: new ManualClock() });

    it('delete() of a running job aborts it and writes nothing for it', async ({ queue }) => {
      let reason: unknown;
      const started = nextEvent(queue, 'started');
      const worker = queue.worker(
        { wait: (_job, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => { reason = ctx.signal.reason; resolve(null); })) },
        FAST,
      );
      const id = await queue.add('wait');
      await worker.start();
      await started;
      await queue.delete(id);
      await waitFor(() => reason !== undefined, 'the abort');
      assert.match(String((reason as Error).message), /deleted/);
      assert.equal(await queue.getJob(id), null);
      assert.equal(worker.stats().completed + worker.stats().cancelled, 0);
    });

    it('uniqueKey: adding while the first is pending returns the first id', async ({ queue }) => {
      const a = await queue.add('scan', { repo: 'a/b' }, { uniqueKey: 'scan:a/b' });
      const b = await queue.add('scan', { repo: 'a/b' }, { uniqueKey: 'scan:a/b' });
      const c = await queue.add('scan', { repo: 'c/d' }, { uniqueKey: 'scan:c/d' });
      assert.equal(a, b);
      assert.notEqual(a, c);
      assert.equal((await queue.counts()).pending, 2);
    });

    it('graceful stop lets running jobs finish, and releases those past graceMs without spending an attempt', async ({ queue }) => {
      let quickDone = false;
      const worker = queue.worker(
        {
          quick: async () => { await new Promise((r) => setTimeout(r, 20)); quickDone = true; return 'ok'; },
          stuck: (_job, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted'))),
        },
        { ...FAST, concurrency: 2, graceMs: 200 },
      );
      const [quick, stuck] = await queue.addBulk([{ name: 'quick' }, { name: 'stuck' }]);
      await worker.start();
      await waitFor(() => worker.stats().started === 2, 'both jobs to start');
      await worker.stop();
      assert.equal(quickDone, true);
      assert.equal((await queue.getJob(quick!))!.status, 'completed');
      const released = (await queue.getJob(stuck!))!;
      assert.equal(released.status, 'pending');
      assert.equal(released.attempts, 0);
      assert.equal(worker.stats().released, 1);
    });

    it('a handler may take ctx apart: progress, signal, attempt and workerId work detached from it', async ({ queue }) => {
      const seen: unknown[] = [];
      const worker = queue.worker({
        parts: async (_job, { progress, signal, attempt, workerId }) => {
          progress({ half: true });
          seen.push(signal.aborted, attempt, workerId);
          return 'done';
        },
      }, FAST);
      const id = await queue.add('parts');
      await worker.start();
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the job to complete');
      assert.deepEqual(seen, [false, 1, worker.id]);
      assert.deepEqual((await queue.getJob(id))!.progress, { half: true });
      assert.deepEqual(Object.keys(await new Promise((resolve) => {
        const w = queue.worker({ keys: (_job, ctx) => void resolve(ctx) }, FAST);
        void w.start().then(() => queue.add('keys'));
      }) as object).sort(), ['attempt', 'workerId'], 'only plain data shows as own keys');
    });

    it('ctx.progress is free: 1,000 calls add no statements beyond the ticks the job lives through', async ({ queue, wire }) => {
      const progressEvents: unknown[] = [];
      queue.on('progress', (e) => progressEvents.push(e.job.progress));
      let statementsDuringCalls = -1;
      const worker = queue.worker(
        {
          chatty: async (_job, ctx) => {
            for (let i = 0; i < 1_000; i++) {
              const before = queue.stats().statements;
              ctx.progress({ step: i });
              if (queue.stats().statements !== before) statementsDuringCalls = i;
              if (i % 100 === 99) await new Promise((r) => setTimeout(r, 15)); // live through a few ticks
            }
            return 'done';
          },
        },
        // No idle polling: once the job is done the worker's polls (every 20 ms with FAST) would add claims to
        // the count below on a slow machine, and they are not what this test is about.
        { ...FAST, pollMs: 60_000 },
      );
      const id = await queue.add('chatty');
      const base = queue.stats();
      await worker.start();
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the chatty job');
      await worker.stop();
      const stats = queue.stats();
      // At the wire (PostgreSQL proxy, SQLite driver hook) the same statements as the store counted: none went around it.
      await wireAgrees(queue, wire, 'ctx.progress');
      const by = (m: string) => (stats.byMethod[m] ?? 0) - (base.byMethod[m] ?? 0);
      assert.equal(statementsDuringCalls, -1, 'no ctx.progress call sent a statement');
      assert.equal(progressEvents.length, 1_000, 'every call is announced in-process at once');
      assert.equal(by('tick'), worker.stats().ticks, 'progress reaches the database only through ticks');
      assert.equal(by('setProgress'), 0);
      // The change journal (SQLite: one row per write transaction, ticks included) is counted apart, by sentSince.
      // The worker reads the control rows (pause, limits) once as it starts: a cost per worker, not per job.
      assert.ok(by('controls') <= 1, `${by('controls')} reads of the control rows`);
      // A worker's idle reads are per worker, not per job: the next-due read after its first short claim and the
      // schedule firer's read (at most once a second; docs/schedules.md). At most one each here.
      assert.ok(by('schedulesDue') <= 1 && by('nextDueAt') <= 1, `idle reads: ${by('schedulesDue')} + ${by('nextDueAt')}`);
      const other = sentSince(queue.store, base) - by('tick') - by('get') - by('counts') - by('controls') - by('schedulesDue') - by('nextDueAt');
      assert.ok(other <= 4, `claim + finish statements for one job: ${other}`);
      assert.deepEqual((await queue.getJob(id))!.progress, { step: 999 });
    });

    it('deep scan: ten jobs × 44 progress calls cost at most 3 statements per job, add included (counted at the wire)', async ({ queue, wire }) => {
      const base = queue.stats().statements;
      const wireBase = wire.statements();
      const worker = queue.worker(
        {
          'deep-scan': async (_job, ctx) => {
            for (let expert = 1; expert <= 11; expert++) {
              for (let step = 1; step <= 4; step++) {
                await new Promise((r) => setTimeout(r, 2));
                ctx.progress({ expert, of: 11, step });
              }
            }
            return { findings: 4 };
          },
        },
        { concurrency: 10, progressFlushMs: 50 },
      );
      const ids = await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: 'deep-scan', data: { repo: `r/${i}` } })));
      await worker.start();
      await waitFor(() => worker.stats().completed === 10, 'ten deep scans');
      await worker.stop();
      const perJob = (queue.stats().statements - base) / ids.length;
      const perJobAtWire = (wire.statements() - wireBase) / ids.length;
      assert.ok(perJob <= 3, `statements per deep-scan job: ${perJob}`);
      assert.ok(perJobAtWire <= 3, `statements per deep-scan job at the wire: ${perJobAtWire}`);
      await wireAgrees(queue, wire, 'deep scan');
      for (const id of ids) assert.deepEqual((await queue.getJob(id))!.progress, { expert: 11, of: 11, step: 4 });
    });

    it('add() to an idle worker of this process hands the job over: one statement from add to handler', async ({ queue, wire }) => {
      const ran: Job[] = [];
      const worker = queue.worker({ quick: async (job) => void ran.push(job) }, FAST);
      await worker.start();
      // PostgreSQL's feed answers its first LISTEN with a claim of its own; wait for it, then for quiet.
      await (queue.store as { listening?: () => Promise<void> }).listening?.();
      await waitFor(() => worker.stats().idle, 'an idle worker');
      const before = queue.stats();
      const wireBefore = wire.statements();
      const started = nextEvent(queue, 'started');
      const id = await queue.add('quick', { n: 1 });
      const event = await started;
      const between = queue.stats();
      const wireBetween = wire.statements();
      assert.equal(event.job.id, id);
      assert.equal(sentSince(queue.store, before), 1, 'the insert alone: no claim between add() and start');
      assert.equal(between.roundTrips - before.roundTrips, 1);
      assert.ok(wireBetween - wireBefore <= between.statements - before.statements + 1, 'no statement went around the store between add() and start');
      await wireAgrees(queue, wire, 'handoff');
      assert.equal((between.byMethod.claim ?? 0) - (before.byMethod.claim ?? 0), 0);
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the handed-off job to complete');
      const job = (await queue.getJob(id))!;
      assert.equal(job.attempts, 1);
      assert.equal(job.processingBy, worker.id);
      assert.deepEqual(ran.map((j) => j.id), [id]);
    });

    it('the change feed\'s echo of this process\'s own adds costs an idle worker no claim', async ({ queue }) => {
      // No polling: the only reasons left to claim are the local signal of the bulk add and the feed.
      const worker = queue.worker({ quick: async () => null, other: async () => null }, { ...FAST, pollMs: 60_000 });
      await worker.start();
      await (queue.store as { listening?: () => Promise<void> }).listening?.();
      await waitFor(() => worker.stats().idle, 'an idle worker');
      const heard = new Set<string>();
      const unwatch = queue.store.watch((events) => {
        for (const e of events) if (e.type === 'added') for (const id of e.ids) heard.add(id);
      });
      try {
        const claimsBefore = worker.stats().claims;
        const before = queue.stats();
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) ids.push(await queue.add(i % 2 ? 'quick' : 'other', { i }));
        ids.push(...(await queue.addBulk([{ name: 'quick' }, { name: 'other' }])));
        await waitFor(async () => (await queue.counts()).completed === ids.length, 'every job to complete');
        // The worker listens on the same feed: once this listener heard every add, so did the worker's.
        if (queue.store.kind === 'postgres') await waitFor(() => ids.every((id) => heard.has(id)), 'the feed to echo every add');
        await waitFor(() => worker.stats().idle, 'the worker idle again');
        const claims = (queue.stats().byMethod.claim ?? 0) - (before.byMethod.claim ?? 0);
        // Ten adds handed over (no claim); the bulk add is announced locally and claimed once. Its echo, and
        // the echoes of the ten, claim nothing more.
        assert.ok(worker.stats().claims - claimsBefore <= 2, `${worker.stats().claims - claimsBefore} claims`);
        assert.ok(claims <= 2, `${claims} claim statements for 12 jobs added here`);
      } finally {
        unwatch();
      }
    });

    it('64 concurrent add() calls share their commits: the first alone (on PostgreSQL the first two), the rest together', async ({ queue }) => {
      const before = queue.stats();
      const ids = await Promise.all(Array.from({ length: 64 }, (_, i) => queue.add('mail', { i })));
      // One commit per lane for the first adds (one lane on SQLite, two on PostgreSQL), then one for the rest.
      const lanes = queue.store.parallel ? 2 : 1;
      const after = queue.stats();
      assert.equal(after.roundTrips - before.roundTrips, lanes + 1);
      // A commit is one statement on PostgreSQL; SQLite writes its change journal in the same transaction.
      assert.ok(after.statements - before.statements <= 2 * (lanes + 1), `${after.statements - before.statements} statements`);
      assert.equal(new Set(ids).size, 64);
      const stored = await queue.listJobs({ name: 'mail', limit: 100 });
      assert.deepEqual(
        stored.map((j) => [j.id, j.data]).sort((a, b) => Number(a[0]) - Number(b[0])),
        ids.map((id, i) => [id, { i }]).sort((a, b) => Number(a[0]) - Number(b[0])),
        'each add got the id of its own job',
      );
    });

    it('concurrent adds sharing a commit each get their own result: an invalid one its error, a uniqueKey match the holder, the rest stored', async ({ queue }) => {
      const holder = await queue.add('scan', { repo: 'held' }, { uniqueKey: 'scan:held' });
      const before = queue.stats().roundTrips;
      const [first, invalid, matched, fresh, sameBatch, last] = await Promise.allSettled([
        queue.add('scan', { repo: 'first' }),
        queue.add('scan', { repo: 'bad' }, { delay: -5 }),
        queue.add('scan', { repo: 'again' }, { uniqueKey: 'scan:held' }),
        queue.add('scan', { repo: 'new' }, { uniqueKey: 'scan:new' }),
        queue.add('scan', { repo: 'new, twice' }, { uniqueKey: 'scan:new' }),
        queue.add('scan', { repo: 'last' }),
      ]);
      // The first add alone (PostgreSQL: the first two), then the rest together; SQLite reads the holder of an
      // already-held key with one more round trip. The invalid add sent nothing.
      assert.equal(queue.stats().roundTrips - before, 3);
      assert.equal(invalid.status, 'rejected');
      assert.ok((invalid as PromiseRejectedResult).reason instanceof ValidationError);
      assert.match(((invalid as PromiseRejectedResult).reason as Error).message, /delay/);
      const value = (r: PromiseSettledResult<string>) => (r.status === 'fulfilled' ? r.value : assert.fail(`rejected: ${r.reason}`));
      assert.equal(value(matched), holder, 'a uniqueKey match gets the holder\'s id');
      assert.equal(value(sameBatch), value(fresh), 'the second add of a key in the same commit gets the first one\'s id');
      const jobs = await Promise.all([first, fresh, last].map((r) => queue.getJob(value(r))));
      assert.deepEqual(jobs.map((j) => j?.data), [{ repo: 'first' }, { repo: 'new' }, { repo: 'last' }]);
      assert.deepEqual((await queue.counts({ name: 'scan' })).pending, 4, 'held, first, new, last');
    });

    it('listJobs of 100 is one statement, at the wire too', async ({ queue, wire }) => {
      await queue.addBulk(Array.from({ length: 120 }, (_, i) => ({ name: 'x', data: i })));
      const before = queue.stats().statements;
      const wireBefore = wire.statements();
      const page = await queue.listJobs({ limit: 100 });
      assert.equal(page.length, 100);
      assert.equal(queue.stats().statements - before, 1);
      assert.equal(wire.statements() - wireBefore, 1, 'one statement at the wire: no per-job read around the store counter');
      const next = await queue.listJobs({ limit: 100, cursor: page[99]!.id });
      assert.equal(next.length, 20);
    });

    it('createBatchedProgressUpdater writes 44 updates in at most 5 statements, the last value kept', async ({ queue, wire }) => {
      const id = await queue.add('external');
      const before = queue.stats().byMethod.setProgress ?? 0;
      const wireBefore = wire.statements();
      const statementsBefore = queue.stats().statements;
      const updater = createBatchedProgressUpdater(queue, id, { flushInterval: 60_000, maxBatchSize: 10 });
      for (let i = 1; i <= 44; i++) updater.queue({ done: i, of: 44 });
      await updater.flush();
      const writes = (queue.stats().byMethod.setProgress ?? 0) - before;
      assert.ok(writes >= 1 && writes <= 5, `progress writes: ${writes}`);
      assert.ok(wire.statements() - wireBefore <= queue.stats().statements - statementsBefore + 1, 'no statement went around the store');
      await wireAgrees(queue, wire, 'batched progress');
      assert.deepEqual((await queue.getJob(id))!.progress, { done: 44, of: 44 });
    });

    it(
      'prune() removes completed jobs older than the cutoff and keeps the dead-letter queue',
      async ({ queue, clock }) => {
        const worker = queue.worker({ ok: async () => 'ok', bad: async () => { throw new Error('no'); } }, FAST);
        await queue.addBulk([{ name: 'ok' }, { name: 'ok' }, { name: 'bad', options: { maxAttempts: 1 } }]);
        await worker.start();
        await waitFor(async () => (await queue.counts()).completed === 2 && (await queue.counts()).failed === 1, 'three finished jobs');
        assert.equal(await queue.prune({ olderThan: 60_000 }), 0, 'nothing is old enough yet');
        clock.advance(60_001);
        assert.equal(await queue.prune({ olderThan: 60_000 }), 2);
        assert.deepEqual(await queue.counts(), { pending: 0, running: 0, completed: 0, failed: 1, cancelled: 0 });
      },
      { clock: new ManualClock() },
    );

    it('a handler result JSON cannot hold fails the attempt with a message saying so', async ({ queue }) => {
      const worker = queue.worker({ big: async () => ({ n: 10n }) }, FAST);
      const id = await queue.add('big', null, { maxAttempts: 1 });
      await worker.start();
      await waitFor(async () => (await queue.getJob(id))!.status === 'failed', 'the job to fail');
      assert.match((await queue.getJob(id))!.error!, /result\.n is a BigInt/);
    });

    const logged: string[] = [];
    it('a listener that throws does not stop the worker; the error goes to the logger', async ({ queue }) => {
      queue.on('started', () => { throw new Error('listener bug'); });
      const worker = queue.worker({ ok: async () => 'fine' }, FAST);
      const [a, b] = await queue.addBulk([{ name: 'ok' }, { name: 'ok' }]);
      await worker.start();
      await waitFor(async () => (await queue.counts()).completed === 2, 'both jobs');
      assert.ok(a && b);
      assert.equal(logged.filter((m) => /'started' listener threw: listener bug/.test(m)).length, 2);
    }, {
      logger: { debug() {}, info() {}, warn: (m) => void logged.push(m), error: (m) => void logged.push(m) },
    });

    it('a worker in another process picks up jobs added here, woken by the change feed (its poll is a minute)', async ({ queue, spawn }) => {
      const other = spawn('queue-worker.ts', { NAMES: 'remote', POLL_MS: '60000' });
      await other.waitForLine((l) => l.startsWith('ready '), 'the other process\'s worker to start');
      const id = await queue.add('remote', { from: 'elsewhere' });
      const ran = await other.waitForLine((l) => l.startsWith('ran '), 'the job to run in the other process', 10_000);
      assert.equal(ran, `ran ${id} {"from":"elsewhere"}`);
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the other process to complete it');
      assert.equal(await other.stop(), 0, 'the other process stops on SIGTERM and ends on its own');
    });
  });
}
