import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Job, type Logger, openQueue, type Queue, SpoolError, ValidationError } from '../../src/index.ts';
import { nextEvent, waitFor } from '../support/wait.ts';

/** One fresh database for one test: open queues on it (each is what another process would have), run raw SQL. */
export interface ReliabilityDb {
  url: string;
  /** Extra openQueue options the database needs (the PostgreSQL schema). */
  options: { schema?: string; pool?: { max: number } };
  /** Runs SQL on the database directly; `{jobs}` stands for SQLite's jobs table, `{schema}` (quoted) and `{schemaLiteral}` (a string) for the PostgreSQL schema. */
  sql(text: string): Promise<void>;
  cleanup(): Promise<void>;
}

export type ReliabilityDbFactory = () => Promise<ReliabilityDb>;

/** A logger that keeps what it is told. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: () => {},
    info: () => {},
    warn: (m) => void lines.push(`warn: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
  };
}

const FAST = { pollMs: 20, progressFlushMs: 20 };

/**
 * The defects of issue #12, one regression test each, on any store: outcomes the database cannot hold, the
 * add()/stop() handoff race, a cancel followed by a throw, huge addBulk batches, input the database refuses,
 * a handler that ignores its abort signal at stop(), and errors a timed progress flush used to swallow.
 */
/**
 * Makes the database itself refuse to store `value` (JSON text, e.g. '"poison"') in `column` of any job row,
 * with a trigger on every table that holds jobs: a real refusal, whatever the store's table layout.
 */
async function refuseToStore(kind: string, db: ReliabilityDb, column: 'result' | 'progress', value: string, message: string): Promise<void> {
  if (kind === 'sqlite') {
    for (const event of ['INSERT', 'UPDATE']) {
      await db.sql(`CREATE TRIGGER refuse_${column}_${event.toLowerCase()} BEFORE ${event} ON {jobs} WHEN NEW.${column} = '${value}'
                    BEGIN SELECT RAISE(ABORT, '${message}'); END`);
    }
    return;
  }
  await db.sql(`
    CREATE FUNCTION {schema}.refuse_${column}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.${column}::text = '${value}' THEN RAISE EXCEPTION '${message}' USING ERRCODE = 'data_exception'; END IF; RETURN NEW; END $$;
    DO $$ DECLARE t text; BEGIN
      FOR t IN SELECT table_name FROM information_schema.tables
                WHERE table_schema = {schemaLiteral} AND table_type = 'BASE TABLE' AND table_name LIKE 'jobs%' LOOP
        EXECUTE format('CREATE TRIGGER refuse_${column} BEFORE INSERT OR UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.refuse_${column}()',
                       {schemaLiteral}, t, {schemaLiteral});
      END LOOP;
    END $$`);
}

export function reliability(kind: string, factory: ReliabilityDbFactory): void {
  async function setup() {
    const db = await factory();
    const logger = recordingLogger();
    const queues: Queue[] = [];
    const open = async (o: { logger?: Logger } = {}) => {
      const q = await openQueue({ url: db.url, ...db.options, logger: o.logger ?? logger });
      queues.push(q);
      return q;
    };
    const queue = await open();
    return {
      db,
      queue,
      open,
      logger,
      async teardown() {
        await Promise.all(queues.map((q) => q.close()));
        await db.cleanup();
      },
    };
  }
  type Ctx = Awaited<ReturnType<typeof setup>>;
  const it = (name: string, fn: (ctx: Ctx) => Promise<void>, options: { timeout?: number } = {}) =>
    test(name, { timeout: options.timeout ?? 60_000 }, async () => {
      const ctx = await setup();
      try {
        await fn(ctx);
      } finally {
        await ctx.teardown();
      }
    });

  describe(`Reliability (issue #12): ${kind}`, () => {
    it('outcomes holding NUL bytes and lone surrogates are all stored, and the rest of their batch with them', async ({ queue }) => {
      const poison: Record<string, (job: Job, ctx: { progress(v: unknown): void }) => unknown> = {
        'throw-nul': () => { throw new Error('bad \u0000 byte'); },
        'throw-high': () => { throw new Error('lone \ud800 high'); },
        'throw-low': () => { throw new Error('lone \udc00 low'); },
        'throw-string': () => { throw 'a string \u0000 \ud800'; },
        'throw-object': () => { throw { code: 'E\u0000', detail: '\udfff' }; },
        'throw-circular': () => { const o: Record<string, unknown> = { name: '\u0000' }; o.self = o; throw o; },
        'throw-stack': () => { const e = new Error('ok message'); e.stack = 'Error: at \u0000 \ud800'; throw e; },
        'return-nul': () => ({ s: 'a\u0000b', k: { '\u0000key': 1 } }),
        'return-lone': () => ({ s: 'x\ud800y\udc00z' }),
        'progress-bad': (_job, ctx) => { ctx.progress({ p: '\u0000\ud800' }); return 'done'; },
      };
      const fine = (job: Job) => ({ ok: job.id });
      const worker = queue.worker({ ...poison, fine }, { ...FAST, concurrency: 8 });
      const entries = [...Object.keys(poison).map((name) => ({ name })), ...Array.from({ length: 30 }, () => ({ name: 'fine' }))];
      const ids = await queue.addBulk(entries.map((e) => ({ ...e, options: { maxAttempts: 1 } })));
      await worker.start();
      await waitFor(async () => {
        const c = await queue.counts();
        return c.completed + c.failed === ids.length;
      }, `all ${ids.length} jobs to finish (a poison outcome used to block its batch forever)`, 20_000);
      const byName = new Map<string, Job>();
      for (const id of ids) {
        const job = (await queue.getJob(id))!;
        byName.set(job.name, job);
        if (job.name === 'fine') assert.deepEqual([job.status, job.result], ['completed', { ok: id }]);
      }
      const error = (name: string) => byName.get(name)!.error!;
      assert.equal(error('throw-nul'), 'bad \ufffd byte', 'NUL stored as U+FFFD');
      assert.equal(error('throw-high'), 'lone \ufffd high');
      assert.equal(error('throw-low'), 'lone \ufffd low');
      assert.match(error('throw-string'), /^a string \ufffd \ufffd$/);
      assert.match(error('throw-object'), /^non-Error thrown: .*E\\u0000/, 'a thrown object is described as JSON (NUL escaped)');
      assert.match(error('throw-circular'), /^non-Error thrown/);
      assert.equal(byName.get('throw-stack')!.errorStack, 'Error: at \ufffd \ufffd');
      for (const name of Object.keys(poison).filter((n) => n.startsWith('throw'))) {
        const job = byName.get(name)!;
        assert.equal(job.status, 'failed', name);
        assert.ok(job.error!.isWellFormed() && !job.error!.includes('\u0000'), `${name}: stored error is well-formed text`);
      }
      // JSON values keep what the handler gave, NUL and lone surrogates included: both stores hold them as JSON escapes.
      assert.deepEqual(byName.get('return-nul')!.result, { s: 'a\u0000b', k: { '\u0000key': 1 } });
      assert.deepEqual(byName.get('return-lone')!.result, { s: 'x\ud800y\udc00z' });
      assert.deepEqual(byName.get('progress-bad')!.progress, { p: '\u0000\ud800' });
      assert.equal(byName.get('progress-bad')!.status, 'completed');
    });

    it('an outcome the database refuses is isolated: the rest of its batch is written, it fails with the reason', async ({ queue, db, logger }) => {
      // A real refusal from the database itself: a trigger that rejects storing the result "poison".
      await refuseToStore(kind, db, 'result', '"poison"', 'poison refused');
      const worker = queue.worker({ job: async (job) => ((job.data as { i: number }).i === 7 ? 'poison' : 'fine') }, { ...FAST, concurrency: 20 });
      const ids = await queue.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'job', data: { i }, options: { maxAttempts: 1 } })));
      await worker.start();
      await waitFor(async () => {
        const c = await queue.counts();
        return c.completed + c.failed === ids.length;
      }, 'every job to finish although one outcome is refused', 20_000);
      const poisoned = (await queue.getJob(ids[7]!))!;
      assert.equal(poisoned.status, 'failed');
      assert.match(poisoned.error!, /could not store the outcome of this attempt.*poison refused/);
      assert.equal((await queue.counts()).completed, ids.length - 1);
      assert.equal(logger.lines.filter((l) => /refused the outcome of job/.test(l)).length, 1, `one log line names the refused outcome:\n${logger.lines.join('\n')}`);
      assert.ok(logger.lines.length <= 3, `a few lines for one refused outcome, not one per job:\n${logger.lines.join('\n')}`);
    });

    it('progress the database refuses is dropped: the tick still extends the lease, the job is not taken over', async ({ queue, open, db, logger }) => {
      await refuseToStore(kind, db, 'progress', '"poison"', 'poison progress refused');
      const other = await open({ logger: recordingLogger() });
      let starts = 0;
      const handler = async (_job: Job, ctx: { progress(v: unknown): void }) => {
        starts++;
        ctx.progress('poison');
        await delay(1_800); // three leases long: without lease extensions the other worker takes it over
        ctx.progress('fine');
        await delay(100);
        return 'done';
      };
      // A 600 ms lease, ticked every 50 ms: short enough to lapse within the handler were ticks to stop, long
      // enough that a loaded machine's stalls do not lapse it.
      const worker = queue.worker({ slow: handler }, { pollMs: 20, leaseMs: 600, progressFlushMs: 50 });
      const rival = other.worker({ slow: handler }, { pollMs: 20, leaseMs: 600 });
      const id = await queue.add('slow', null, { maxAttempts: 5 });
      const started = nextEvent(queue, 'started');
      await worker.start();
      await started; // the first worker holds it; only then may a rival try to take it over
      await rival.start();
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the job to complete');
      const job = (await queue.getJob(id))!;
      assert.deepEqual([starts, job.attempts, job.processingBy, job.progress], [1, 1, worker.id, 'fine']);
      assert.equal(logger.lines.filter((l) => /refused the progress of jobs/.test(l)).length, 1, logger.lines.join('\n'));
    });

    it('add() racing worker.stop(): the handed-over job is released to pending, never left running under a stopped worker', async ({ queue }) => {
      const ran: string[] = [];
      const worker = queue.worker({ quick: async (job) => void ran.push(job.id) }, FAST);
      await worker.start();
      await (queue.store as { listening?: () => Promise<void> }).listening?.();
      await waitFor(() => worker.stats().idle, 'an idle worker (the handoff needs one)');
      const [id] = await Promise.all([queue.add('quick'), worker.stop()]);
      const job = (await queue.getJob(id))!;
      assert.deepEqual([job.status, job.attempts, job.leaseUntil] as unknown[], ['pending', 0, null], 'released without spending an attempt');
      assert.equal(ran.length, 0, 'the stopping worker did not run it');
      const next = queue.worker({ quick: async (j) => void ran.push(j.id) }, FAST);
      await next.start();
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'another worker to run it');
      assert.deepEqual(ran, [id]);
      assert.equal((await queue.getJob(id))!.attempts, 1);
    });

    it('a cancel requested from another queue, then a throw with attempts left: the job ends cancelled and never runs again', async ({ queue, open }) => {
      const other = await open();
      let runs = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      // Ticks once a minute: the worker cannot learn of the cancel before the handler throws.
      const worker = queue.worker({ flaky: async () => { runs++; await gate; throw new Error('failed after the cancel'); } }, { pollMs: 20, progressFlushMs: 60_000 });
      const id = await queue.add('flaky', null, { maxAttempts: 3, backoff: { type: 'fixed', delay: 0 } });
      const started = nextEvent(queue, 'started');
      await worker.start();
      await started;
      const requested = await other.cancel(id);
      assert.deepEqual([requested.status, requested.cancelRequested], ['running', true]);
      const cancelled = nextEvent(queue, 'cancelled');
      release();
      assert.equal((await cancelled).job.id, id, "the worker's event says cancelled, not retrying");
      const job = (await queue.getJob(id))!;
      assert.deepEqual([job.status, job.attempts, job.cancelRequested], ['cancelled', 1, false]);
      assert.equal(job.error, 'failed after the cancel', 'the last attempt\'s error is kept');
      await delay(200);
      assert.equal(runs, 1, 'it never ran again');
      assert.equal(worker.stats().retried, 0);
      assert.equal(worker.stats().cancelled, 1);
    });

    it('a cancel requested from another queue, then stop() releases the job: it ends cancelled, not pending', async ({ queue, open }) => {
      const other = await open();
      const worker = queue.worker(
        { wait: (_job, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) },
        { pollMs: 20, progressFlushMs: 60_000, graceMs: 0 },
      );
      const id = await queue.add('wait');
      const started = nextEvent(queue, 'started');
      await worker.start();
      await started;
      await other.cancel(id);
      await worker.stop();
      const job = (await queue.getJob(id))!;
      assert.deepEqual([job.status, job.cancelRequested], ['cancelled', false]);
    });

    it('addBulk() of 130,000 jobs writes them all, and the ids come back (a spread of every runAt threw after the commit)', async ({ queue }) => {
      const n = 130_000;
      const ids = await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'bulk', data: i, options: i % 2 ? { delay: i } : {} })));
      assert.equal(ids.length, n);
      assert.equal(new Set(ids).size, n);
      assert.equal((await queue.counts()).pending, n);
    }, { timeout: 120_000 });

    it('addBulk() too large for one statement is refused before anything is written', async ({ queue }) => {
      // 130 jobs just under maxPayloadBytes (1 MiB) each: 129 MiB together, over the 128 MiB one statement carries.
      const big = 'x'.repeat(1_040_000);
      const entries = Array.from({ length: 130 }, (_, i) => ({ name: 'bulk', data: big + i }));
      const sent = queue.stats().statements;
      await assert.rejects(queue.addBulk(entries), (e: unknown) => e instanceof ValidationError && /addBulk\(\).*MiB.*split/i.test(e.message));
      const many = Array.from({ length: 1_000_001 }, () => ({ name: 'bulk' }));
      await assert.rejects(queue.addBulk(many), (e: unknown) => e instanceof ValidationError && /at most 1,000,000 jobs.*split/.test(e.message));
      assert.equal(queue.stats().statements, sent, 'no statement sent');
      assert.equal((await queue.counts()).pending, 0);
    });

    const refused: { input: string; call: (q: Queue) => Promise<unknown>; says: RegExp }[] = [
      { input: 'a uniqueKey holding a NUL byte', call: (q) => q.add('k', null, { uniqueKey: 'a\u0000b' }), says: /options\.uniqueKey .*NUL/ },
      { input: 'a uniqueKey holding a lone high surrogate', call: (q) => q.add('k', null, { uniqueKey: 'key-\ud800' }), says: /options\.uniqueKey .*lone surrogate/ },
      { input: 'a uniqueKey holding a lone low surrogate', call: (q) => q.add('k', null, { uniqueKey: '\udc00' }), says: /options\.uniqueKey .*lone surrogate/ },
      { input: 'a runAt before year 1', call: (q) => q.add('k', null, { runAt: new Date(Date.UTC(-5000, 0, 1)) }), says: /options\.runAt .*year/ },
      { input: 'a runAt after year 9999', call: (q) => q.add('k', null, { runAt: new Date(8.64e15) }), says: /options\.runAt .*year/ },
      { input: 'one bad uniqueKey in a batch', call: (q) => q.addBulk([{ name: 'k' }, { name: 'k', options: { uniqueKey: '\ud83d' } }]), says: /jobs\[1\]\.options\.uniqueKey/ },
      { input: 'a worker id holding a NUL byte', call: async (q) => q.worker({ k: () => {} }, { id: 'w\u0000' }), says: /options\.id .*NUL/ },
    ];
    for (const c of refused) {
      it(`${c.input} → ValidationError before anything is written`, async ({ queue }) => {
        const sent = queue.stats().statements;
        await assert.rejects(c.call(queue), (e: unknown) => e instanceof ValidationError && c.says.test(e.message), c.input);
        assert.equal(queue.stats().statements, sent, 'no statement sent');
        assert.deepEqual(await queue.listJobs(), []);
      });
    }

    it('stop() past graceMs keeps the lease of a handler that ignores its signal until it returns; no other worker runs it meanwhile', async ({ queue, open, logger }) => {
      const other = await open({ logger: recordingLogger() });
      const timeline: string[] = [];
      let aborted = false;
      const stubborn = queue.worker(
        {
          stubborn: async (_job, ctx) => {
            timeline.push('first:start');
            ctx.signal.addEventListener('abort', () => (aborted = true));
            await delay(2_000); // ignores the abort
            timeline.push('first:return');
            return 'finished anyway';
          },
        },
        // A short lease: were it not extended while the handler runs, the other worker would take the job within 600 ms.
        { pollMs: 20, leaseMs: 600, progressFlushMs: 50, graceMs: 100 },
      );
      const rescuer = other.worker({ stubborn: async () => void timeline.push('second:start') }, { pollMs: 20, leaseMs: 600 });
      const id = await queue.add('stubborn');
      const started = nextEvent(queue, 'started');
      await stubborn.start();
      await started;
      await rescuer.start();
      const stopping = stubborn.stop().then(() => timeline.push('first:stopped'));
      await stopping;
      assert.equal(aborted, true, 'the signal was aborted at graceMs');
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the released job to run again elsewhere');
      const at = (event: string) => timeline.indexOf(event);
      assert.ok(at('first:return') >= 0 && at('first:stopped') > at('first:return'), `stop() waited for the handler to return: ${timeline}`);
      assert.ok(at('second:start') > at('first:return'), `never two handlers at once: the other worker started it only once it was released: ${timeline}`);
      assert.equal(timeline.filter((e) => e === 'second:start').length, 1);
      const loud = logger.lines.filter((l) => l.includes(`job ${id}`) && /ignor/.test(l));
      assert.equal(loud.length, 1, `one loud line names the job and says it ignored its signal:\n${logger.lines.join('\n')}`);
      assert.match(loud[0]!, /^error: /);
    });

    it('a handler that ignores its signal past its timeout is reported once: its retry may overlap it', async ({ queue, logger }) => {
      let running = 0;
      let overlap = 0;
      const worker = queue.worker({
        deaf: async (_job, ctx) => {
          if (++running > 1) overlap++;
          if (ctx.attempt === 1) await delay(1_300); // ignores the abort the timeout sends
          running--;
        },
      }, FAST);
      const id = await queue.add('deaf', null, { timeout: 50, maxAttempts: 2, backoff: { type: 'fixed', delay: 0 } });
      await worker.start();
      await waitFor(async () => (await queue.getJob(id))!.status === 'completed', 'the second attempt to complete');
      await waitFor(() => logger.lines.some((l) => l.includes(`job ${id}`)), 'the warning', 5_000);
      const lines = logger.lines.filter((l) => l.includes(`job ${id}`));
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0]!, /^warn: .*still runs 1000 ms after its signal aborted \(timeout\)/);
      assert.equal(overlap, 1, 'the retry did run while the first handler still ran: what the warning is about');
    });

    it('a timed progress flush that fails is logged, the value kept; later flushes still write, and close() reports a failure', async ({ queue, db, logger }) => {
      await refuseToStore(kind, db, 'progress', '"poison"', 'poison progress refused');
      const { createBatchedProgressUpdater } = await import('../../src/index.ts');
      const id = await queue.add('external');
      const updater = createBatchedProgressUpdater(queue, id, { flushInterval: 20 });
      updater.queue('poison');
      await waitFor(() => logger.lines.some((l) => l.startsWith('error: ') && l.includes(`progress of job ${id} could not be written`)), 'the failed timed flush to be logged');
      await assert.rejects(updater.flush(), (e: unknown) => e instanceof SpoolError && /poison progress refused/.test(e.message), 'the kept value is tried again, and its failure reported');
      updater.queue({ done: 2 });
      await updater.flush();
      assert.deepEqual((await queue.getJob(id))!.progress, { done: 2 }, 'a failed write does not stop the later ones');
      updater.queue('poison');
      await assert.rejects(updater.close(), SpoolError, 'close() reports what it could not write');
    });
  });
}
