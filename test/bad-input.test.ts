import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  createBatchedProgressUpdater,
  type Job,
  JobNotFoundError,
  type JobOptions,
  JobStateError,
  openQueue,
  type OpenQueueOptions,
  type Queue,
  SpoolError,
  StoreError,
  ValidationError,
} from '../src/index.ts';
import { sqliteUrl, tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';
import { sentSince } from './suites/conformance.ts';

/**
 * Bad input through the public API: each odd input gets the right typed error, its message names the
 * field, the value and the fix, and nothing is written. Validation errors must come before any statement
 * (queue.stats().statements unchanged); errors that depend on a job's state may read, never write.
 */

type ErrorClass = typeof ValidationError | typeof JobNotFoundError | typeof JobStateError;

interface Case {
  /** What is odd about the input. */
  input: string;
  call: (queue: Queue) => unknown;
  error: ErrorClass;
  /** Substrings the message must contain: the field, the value received, and the fix. */
  says: string[];
  /** Queue options for this case (e.g. a small maxPayloadBytes). */
  open?: Omit<OpenQueueOptions, 'url'>;
}

/** A fresh queue on its own SQLite file, with its teardown. */
async function setup(options: Omit<OpenQueueOptions, 'url'> = {}): Promise<{ queue: Queue; teardown: () => Promise<void> }> {
  const { url, cleanup } = sqliteUrl();
  const queue = await openQueue({ url, ...options });
  return {
    queue,
    teardown: async () => {
      await queue.close();
      cleanup();
    },
  };
}

/** Every row of the jobs table, as the public API sees it (one statement). */
async function snapshot(queue: Queue): Promise<Job[]> {
  return queue.listJobs({ limit: 1000 });
}

/**
 * Runs `call`, expects it to reject (or throw) with `error`, a SpoolError whose message contains every
 * entry of `says`, and proves nothing was written: the jobs are identical before and after, and when
 * `statements` is 0 the store sent no statement at all.
 */
async function rejectsWithoutWriting(queue: Queue, call: () => unknown, error: ErrorClass, says: string[], statements: 0 | 'reads' = 0): Promise<SpoolError> {
  const before = await snapshot(queue);
  const countsBefore = await queue.counts();
  const sent = queue.stats().statements;
  let thrown: unknown;
  try {
    await call();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected ${error.name}, but the call succeeded`);
  assert.ok(thrown instanceof error, `expected ${error.name}, got ${(thrown as Error)?.constructor?.name}: ${(thrown as Error)?.message}`);
  assert.ok(thrown instanceof SpoolError, 'every typed error extends SpoolError');
  for (const part of says) assert.ok(thrown.message.includes(part), `message should contain ${JSON.stringify(part)}:\n  ${thrown.message}`);
  if (statements === 0) assert.equal(queue.stats().statements, sent, `rejected before any statement, but the store sent ${queue.stats().statements - sent}`);
  assert.deepEqual(await queue.counts(), countsBefore, 'counts unchanged');
  assert.deepEqual(await snapshot(queue), before, 'no job added or changed');
  return thrown;
}

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
let deep: unknown = 'bottom';
for (let i = 0; i < 20_000; i++) deep = [deep];
// eslint-disable-next-line no-sparse-arrays
const sparse = [1, , 3];

const addCases: Case[] = [
  // Names
  { input: 'an empty name', call: (q) => q.add('', {}), error: ValidationError, says: ['name must not be empty', 'got ""'] },
  { input: 'a name with spaces', call: (q) => q.add('send email', {}), error: ValidationError, says: ['name', 'got "send email"', 'only letters, digits and _ . : @ / -'] },
  { input: 'a name with unicode letters', call: (q) => q.add('résumé', {}), error: ValidationError, says: ['name', 'got "résumé"', 'only letters, digits'] },
  { input: 'a name of 201 characters', call: (q) => q.add('n'.repeat(201), {}), error: ValidationError, says: ['name must be at most 200 characters', '(201 chars)'] },
  { input: 'a name that is a number', call: (q) => q.add(42 as unknown as string, {}), error: ValidationError, says: ['name must be a string', 'got 42'] },
  // Data JSON cannot carry unchanged
  { input: 'data holding a BigInt', call: (q) => q.add('a', { n: 10n }), error: ValidationError, says: ['data.n', 'BigInt (10n)', 'send it as a string or number'] },
  { input: 'circular data', call: (q) => q.add('a', circular), error: ValidationError, says: ['data.self', 'circular', 'send a tree of plain data'] },
  { input: 'data holding a function', call: (q) => q.add('a', { cb: () => 1 }), error: ValidationError, says: ['data.cb', 'function', 'send plain data'] },
  { input: 'data that is a Map', call: (q) => q.add('a', new Map([['k', 1]])), error: ValidationError, says: ['data is a Map', 'send a plain object or array'] },
  { input: 'NaN nested in data', call: (q) => q.add('a', { a: [1, { b: NaN }] }), error: ValidationError, says: ['data.a[1].b', 'NaN', 'send a finite number or null'] },
  { input: '-Infinity nested in data', call: (q) => q.add('a', { x: { y: -Infinity } }), error: ValidationError, says: ['data.x.y', '-Infinity', 'finite number'] },
  { input: 'undefined inside an array', call: (q) => q.add('a', { list: [1, undefined, 3] }), error: ValidationError, says: ['data.list[1]', 'undefined', 'send null'] },
  { input: 'a sparse array', call: (q) => q.add('a', sparse), error: ValidationError, says: ['data[1]', 'hole', 'send null'] },
  { input: 'data that is a Symbol', call: (q) => q.add('a', Symbol('s')), error: ValidationError, says: ['data is a symbol', 'send plain data'] },
  { input: 'data nested 20,000 deep', call: (q) => q.add('a', deep), error: ValidationError, says: ['data[0]', 'nested more than 256 levels', 'send flatter data'] },
  {
    input: 'data over maxPayloadBytes, counted in bytes (600 "é" = 1,202 bytes)',
    open: { maxPayloadBytes: 1024 },
    call: (q) => q.add('a', 'é'.repeat(600)),
    error: ValidationError,
    says: ['data is 1202 bytes as JSON', 'limit of 1024 (maxPayloadBytes)', 'pass a reference'],
  },
  {
    input: 'data of 1.1 MB over the default 1 MiB limit',
    call: (q) => q.add('a', { blob: 'x'.repeat(1_100_000) }),
    error: ValidationError,
    says: ['data is 1100011 bytes as JSON', 'limit of 1048576 (maxPayloadBytes)'],
  },
  // Numbers
  ...numberCases('priority', [[NaN, 'the priority (a finite number)'], [1.5, 'a whole number'], [Infinity, 'the priority (a finite number)']]),
  ...numberCases('delay', [[-5, 'at least 0 ms'], [NaN, 'the delay in milliseconds (a finite number)'], [1.5, 'whole number of milliseconds'], [1e12, 'at most 2147483647 ms']]),
  ...numberCases('maxAttempts', [[0, 'at least 1'], [-1, 'at least 1'], [1.5, 'a whole number']]),
  ...numberCases('timeout', [[0, 'at least 1 ms']]),
  // Dates
  { input: 'runAt an invalid Date', call: (q) => q.add('a', {}, { runAt: new Date('soon') }), error: ValidationError, says: ['options.runAt must be a valid Date', 'got Invalid Date'] },
  { input: 'runAt a string', call: (q) => q.add('a', {}, { runAt: '2030-01-01' as unknown as Date }), error: ValidationError, says: ['options.runAt must be a valid Date', 'got "2030-01-01"'] },
  {
    input: 'runAt and delay together',
    call: (q) => q.add('a', {}, { runAt: new Date(Date.UTC(2030, 0, 1)), delay: 5 }),
    error: ValidationError,
    says: ['options.runAt', 'together with delay', 'give delay (ms from now) or runAt (a Date), not both', 'got 2030-01-01T00:00:00.000Z'],
  },
  // Options
  {
    input: "the typo 'attempts' for maxAttempts",
    call: (q) => q.add('a', {}, { attempts: 3 } as JobOptions),
    error: ValidationError,
    says: ['options has unknown option "attempts"', 'did you mean "maxAttempts"?', 'the options are priority, delay, runAt, maxAttempts'],
  },
  {
    input: 'a backoff of unknown type',
    call: (q) => q.add('a', {}, { backoff: { type: 'linear', delay: 100 } as unknown as JobOptions['backoff'] }),
    error: ValidationError,
    says: ['options.backoff.type', 'got "linear"', "{ type: 'exponential', delay, maxDelay?, jitter? } or { type: 'fixed', delay, jitter? }"],
  },
  { input: 'a backoff with a negative delay', call: (q) => q.add('a', {}, { backoff: { type: 'fixed', delay: -1 } }), error: ValidationError, says: ['options.backoff.delay must be at least 0 ms', 'got -1'] },
  {
    input: 'a backoff whose maxDelay is below its delay',
    call: (q) => q.add('a', {}, { backoff: { type: 'exponential', delay: 5_000, maxDelay: 1_000 } }),
    error: ValidationError,
    says: ['options.backoff.maxDelay must be at least delay', 'raise maxDelay or lower delay', 'got 1000'],
  },
  {
    input: 'a fixed backoff with an exponential-only option',
    call: (q) => q.add('a', {}, { backoff: { type: 'fixed', delay: 100, maxDelay: 1_000 } as never }),
    error: ValidationError,
    says: ['options.backoff has unknown option "maxDelay"', 'the options are type, delay, jitter'],
  },
  { input: 'an empty uniqueKey', call: (q) => q.add('a', {}, { uniqueKey: '' }), error: ValidationError, says: ['options.uniqueKey must not be empty', 'got ""'] },
  { input: 'options that are a number', call: (q) => q.add('a', {}, 5 as unknown as JobOptions), error: ValidationError, says: ['options must be an object', 'got 5'] },
  // addBulk
  {
    input: 'addBulk whose entry 3 of 5 is bad',
    call: (q) => q.addBulk([{ name: 'a' }, { name: 'b', data: { ok: true } }, { name: 'c', options: { delay: -1 } }, { name: 'd' }, { name: 'e' }]),
    error: ValidationError,
    says: ['jobs[2].options.delay must be at least 0 ms', 'got -1'],
  },
  { input: 'addBulk of a non-array', call: (q) => q.addBulk({ name: 'a' } as never), error: ValidationError, says: ['addBulk() takes an array of { name, data, options }', 'got object'] },
  { input: 'addBulk with a null entry', call: (q) => q.addBulk([{ name: 'a' }, null as never]), error: ValidationError, says: ['jobs[1].', 'must be an object { name, data, options }', 'got null'] },
];

function numberCases(field: 'priority' | 'delay' | 'maxAttempts' | 'timeout', values: [number, string][]): Case[] {
  return values.map(([value, fix]) => ({
    input: `${field} ${value}`,
    call: (q: Queue) => q.add('a', {}, { [field]: value }),
    error: ValidationError,
    says: [`options.${field}`, fix, `got ${value}`],
  }));
}

const listCases: Case[] = [
  { input: 'listJobs limit 0', call: (q) => q.listJobs({ limit: 0 }), error: ValidationError, says: ['filter.limit must be at least 1', 'got 0'] },
  { input: 'listJobs limit 5000', call: (q) => q.listJobs({ limit: 5000 }), error: ValidationError, says: ['filter.limit must be at most 1000', 'got 5000'] },
  { input: 'listJobs limit NaN', call: (q) => q.listJobs({ limit: NaN }), error: ValidationError, says: ['filter.limit must be the page size (a finite number)', 'got NaN'] },
  {
    input: 'listJobs of an unknown status',
    call: (q) => q.listJobs({ status: 'done' as never }),
    error: ValidationError,
    says: ['filter.status must be one of pending, running, completed, failed, cancelled', 'got "done"'],
  },
  { input: 'listJobs with a bad cursor', call: (q) => q.listJobs({ cursor: 'abc' }), error: ValidationError, says: ['filter.cursor must be a job id', 'got "abc"'] },
  {
    input: 'listJobs with an unknown filter key',
    call: (q) => q.listJobs({ state: 'failed' } as never),
    error: ValidationError,
    says: ['filter has unknown option "state"', 'did you mean "status"?', 'the options are status, name, data, limit, offset, cursor'],
  },
  { input: 'counts with an unknown filter key', call: (q) => q.counts({ nmae: 'a' } as never), error: ValidationError, says: ['filter has unknown option "nmae"', 'did you mean "name"?'] },
];

const idCases: Case[] = [
  ...(['retry', 'cancel', 'delete'] as const).map((op) => ({
    input: `${op} of the missing id '999999'`,
    call: (q: Queue) => q[op]('999999'),
    error: JobNotFoundError,
    says: ['job "999999" does not exist'],
  })),
  ...(['retry', 'cancel', 'delete', 'getJob'] as const).map((op) => ({
    input: `${op} of an empty id`,
    call: (q: Queue) => q[op](''),
    error: ValidationError,
    says: ['id must not be empty', 'got ""'],
  })),
  { input: 'getJob of a number id', call: (q) => q.getJob(7 as unknown as string), error: ValidationError, says: ['id must be a job id string', 'got 7'] },
];

const workerCases: Case[] = [
  { input: 'worker concurrency 0', call: (q) => q.worker({ a: () => 1 }, { concurrency: 0 }), error: ValidationError, says: ['options.concurrency must be at least 1', 'got 0'] },
  { input: 'worker concurrency NaN', call: (q) => q.worker({ a: () => 1 }, { concurrency: NaN }), error: ValidationError, says: ['options.concurrency', '(a finite number)', 'got NaN'] },
  {
    input: 'an unknown worker option',
    call: (q) => q.worker({ a: () => 1 }, { concurency: 4 } as never),
    error: ValidationError,
    says: ['options has unknown option "concurency"', 'did you mean "concurrency"?', 'the options are concurrency,'],
  },
  { input: 'a handler that is not a function', call: (q) => q.worker({ a: 'run' as never }), error: ValidationError, says: ['handlers["a"] must be a function (job, ctx) => result', 'got string'] },
  { input: 'an empty handler map', call: (q) => q.worker({}), error: ValidationError, says: ['handlers must be an object mapping job names to functions, with at least one entry'] },
  { input: 'a handler under a name no job can have', call: (q) => q.worker({ 'send mail': () => 1 }), error: ValidationError, says: ['handlers["send mail"] name', 'only letters, digits'] },
];

const listenerCases: Case[] = [
  {
    input: "on('complete'), a typo for 'completed'",
    call: (q) => q.on('complete' as never, () => {}),
    error: ValidationError,
    says: ['event type must be one of added, started, progress, retrying, completed, failed, cancelled', 'got "complete"'],
  },
  { input: 'on() with a listener that is not a function', call: (q) => q.on('completed', 'log' as never), error: ValidationError, says: ["the listener of 'completed' must be a function (event) => void", 'got "log"'] },
];

describe('bad input is refused with a typed error that says what to fix, and nothing is written', () => {
  for (const c of [...addCases, ...listCases, ...idCases, ...workerCases, ...listenerCases]) {
    const before = c.error === ValidationError ? 'before any statement' : 'after reading only';
    test(`${c.input} → ${c.error.name}, ${before}`, async () => {
      const { queue, teardown } = await setup(c.open);
      try {
        // A job already there, so "nothing written" also covers not touching existing rows.
        await queue.add('existing', { keep: true });
        await rejectsWithoutWriting(queue, () => c.call(queue), c.error, c.says, c.error === ValidationError ? 0 : 'reads');
      } finally {
        await teardown();
      }
    });
  }

  test('the harness notices a write: a valid add() of the same shape sends a statement and adds a job', async () => {
    const { queue, teardown } = await setup({ maxPayloadBytes: 1024 });
    try {
      const sent = queue.stats();
      await queue.addBulk([{ name: 'a' }, { name: 'b', data: 'é'.repeat(500) }, { name: 'c', options: { delay: 0, maxAttempts: 1 } }]);
      assert.equal(sentSince(queue.store, sent), 1);
      assert.equal((await queue.counts()).pending, 3);
    } finally {
      await teardown();
    }
  });
});

describe('operations in the wrong state are refused with JobStateError, and the job is left as it was', () => {
  /** A queue with one completed job, run by a real worker. */
  async function withCompletedJob(fn: (queue: Queue, id: string) => Promise<void>): Promise<void> {
    const { queue, teardown } = await setup();
    try {
      const id = await queue.add('done-soon', { n: 1 });
      const worker = queue.worker({ 'done-soon': () => ({ ok: true }) }, { pollMs: 20 });
      await worker.start();
      await waitFor(async () => (await queue.getJob(id))?.status === 'completed', `job ${id} to complete`);
      await worker.stop();
      await fn(queue, id);
    } finally {
      await teardown();
    }
  }

  test('retry() of a completed job', () =>
    withCompletedJob(async (queue, id) => {
      const error = await rejectsWithoutWriting(queue, () => queue.retry(id), JobStateError, [`cannot retry job ${id}`, 'it is completed', 'only failed or cancelled jobs can be retried'], 'reads');
      assert.equal((error as JobStateError).status, 'completed');
      assert.equal((error as JobStateError).jobId, id);
    }));

  test('cancel() of a completed job', () =>
    withCompletedJob(async (queue, id) => {
      await rejectsWithoutWriting(queue, () => queue.cancel(id), JobStateError, [`cannot cancel job ${id}`, 'it is completed', 'only pending or running jobs can be cancelled'], 'reads');
    }));

  test('retry() of a pending job', async () => {
    const { queue, teardown } = await setup();
    try {
      const id = await queue.add('later', {}, { delay: 60_000 });
      await rejectsWithoutWriting(queue, () => queue.retry(id), JobStateError, [`cannot retry job ${id}`, 'it is pending', 'only failed or cancelled jobs can be retried'], 'reads');
    } finally {
      await teardown();
    }
  });

  test('retry() of a cancelled job whose uniqueKey another job took meanwhile names the key and the holder', async () => {
    const { queue, teardown } = await setup();
    try {
      const first = await queue.add('scan', {}, { uniqueKey: 'scan:a/b', delay: 60_000 });
      await queue.cancel(first);
      const holder = await queue.add('scan', {}, { uniqueKey: 'scan:a/b' });
      assert.notEqual(holder, first);
      const error = await rejectsWithoutWriting(
        queue,
        () => queue.retry(first),
        JobStateError,
        [`cannot retry job ${first}`, 'its uniqueKey "scan:a/b" is held by job ' + holder, 'cancel it, then retry'],
        'reads',
      );
      assert.equal((error as JobStateError).status, 'cancelled');
    } finally {
      await teardown();
    }
  });

  test('cancel() of a cancelled job', async () => {
    const { queue, teardown } = await setup();
    try {
      const id = await queue.add('later', {}, { delay: 60_000 });
      await queue.cancel(id);
      await rejectsWithoutWriting(queue, () => queue.cancel(id), JobStateError, [`cannot cancel job ${id}`, 'it is cancelled', 'only pending or running jobs can be cancelled'], 'reads');
    } finally {
      await teardown();
    }
  });

  test('getJob() of a missing id is null, not an error, and writes nothing', async () => {
    const { queue, teardown } = await setup();
    try {
      const before = await queue.counts();
      assert.equal(await queue.getJob('999999'), null);
      assert.deepEqual(await queue.counts(), before);
    } finally {
      await teardown();
    }
  });
});

describe('openQueue() refuses bad connection settings before it opens or creates a file', () => {
  const cases: { input: string; arg: (dir: string) => unknown; says: string[] }[] = [
    { input: 'an unknown URL scheme', arg: () => 'mysql://localhost/jobs', says: ['url "mysql://localhost/jobs" is not a Spool database URL', 'use sqlite:./spool.db'] },
    { input: "'sqlite:' without a path", arg: () => 'sqlite:', says: ['url "sqlite:" names no file', 'sqlite:/abs/path.db or sqlite::memory:'] },
    {
      input: 'an unknown open option',
      arg: (dir) => ({ url: `sqlite:${join(dir, 'spool.db')}`, pol: { max: 2 } }),
      says: ['options has unknown option "pol"', 'did you mean "pool"?', 'the options are url, pool, schema, maxPayloadBytes'],
    },
    { input: 'maxPayloadBytes 0', arg: (dir) => ({ url: `sqlite:${join(dir, 'spool.db')}`, maxPayloadBytes: 0 }), says: ['options.maxPayloadBytes must be at least 1', 'got 0'] },
    { input: 'a number instead of a URL or options', arg: () => 42, says: ['openQueue() takes a database URL string or an options object', 'got 42'] },
  ];
  for (const c of cases) {
    test(`openQueue with ${c.input} → ValidationError, no file created`, async () => {
      const { dir, cleanup } = tempDir();
      try {
        await assert.rejects(openQueue(c.arg(dir) as OpenQueueOptions), (error: unknown) => {
          assert.ok(error instanceof ValidationError && error instanceof SpoolError, `expected ValidationError, got ${error}`);
          for (const part of c.says) assert.ok(error.message.includes(part), `message should contain ${JSON.stringify(part)}:\n  ${error.message}`);
          return true;
        });
        assert.deepEqual(readdirSync(dir), []);
        assert.equal(existsSync(join(dir, 'spool.db')), false);
      } finally {
        cleanup();
      }
    });
  }
});

describe('what a handler hands back is held to the same rules: a bad result or progress fails the attempt, nothing bad is stored', () => {
  const outputs: { what: string; handler: (ctx: { progress(v: unknown): void }) => unknown; says: string[] }[] = [
    { what: 'a result over maxPayloadBytes', handler: () => ({ blob: 'x'.repeat(2_000) }), says: ['result is 2011 bytes as JSON', 'limit of 1024 (maxPayloadBytes)'] },
    { what: 'a BigInt result', handler: () => ({ total: 5n }), says: ['result.total is a BigInt (5n)', 'send it as a string or number'] },
    {
      what: 'progress over maxPayloadBytes',
      handler: (ctx) => ctx.progress({ log: 'y'.repeat(2_000) }),
      says: ['progress is 2010 bytes as JSON', 'limit of 1024 (maxPayloadBytes)'],
    },
  ];
  for (const o of outputs) {
    test(`${o.what} fails the job with a message saying so`, async () => {
      const { queue, teardown } = await setup({ maxPayloadBytes: 1024 });
      try {
        const id = await queue.add('out', {}, { maxAttempts: 1 });
        const worker = queue.worker({ out: (_job, ctx) => o.handler(ctx) }, { pollMs: 20 });
        await worker.start();
        await waitFor(async () => (await queue.getJob(id))?.status === 'failed', `job ${id} to fail`);
        await worker.stop();
        const job = (await queue.getJob(id))!;
        for (const part of o.says) assert.ok(job.error!.includes(part), `error should contain ${JSON.stringify(part)}:\n  ${job.error}`);
        assert.equal(job.result, null);
        assert.equal(job.progress, null);
      } finally {
        await teardown();
      }
    });
  }
});

describe('createBatchedProgressUpdater refuses bad input where the caller can see it', () => {
  test('queue() of non-JSON progress throws ValidationError at once, and nothing is written', async () => {
    const { queue, teardown } = await setup();
    try {
      const id = await queue.add('report', {}, { delay: 60_000 });
      const updater = createBatchedProgressUpdater(queue, id, { flushInterval: 10, maxBatchSize: 1 });
      const sent = queue.stats().statements;
      assert.throws(() => updater.queue({ done: 3n }), (e: unknown) => e instanceof ValidationError && /progress\.done is a BigInt \(3n\)/.test(e.message));
      await updater.close();
      assert.equal(queue.stats().statements, sent, 'no statement sent');
      assert.equal((await queue.getJob(id))!.progress, null);
    } finally {
      await teardown();
    }
  });

  test('an unknown option and a zero flushInterval are refused', async () => {
    const { queue, teardown } = await setup();
    try {
      const id = await queue.add('report', {});
      await rejectsWithoutWriting(queue, () => createBatchedProgressUpdater(queue, id, { flushIntervall: 100 } as never), ValidationError, [
        'options has unknown option "flushIntervall" (did you mean "flushInterval"?)',
      ]);
      await rejectsWithoutWriting(queue, () => createBatchedProgressUpdater(queue, id, { flushInterval: 0 }), ValidationError, ['options.flushInterval must be at least 1 ms', 'got 0']);
    } finally {
      await teardown();
    }
  });
});

describe('openQueue() on a path that cannot hold a database fails with StoreError and leaves what is there alone', () => {
  test('a path below a regular file', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'plain.txt');
      writeFileSync(file, 'not a directory');
      await assert.rejects(openQueue(`sqlite:${join(file, 'spool.db')}`), (error: unknown) => {
        assert.ok(error instanceof StoreError && error instanceof SpoolError, `expected StoreError, got ${error}`);
        assert.match(error.message, /could not open SQLite database .*plain\.txt\/spool\.db: .*check that the URL names a Spool database file in a writable directory/);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), 'not a directory');
    } finally {
      cleanup();
    }
  });

  test('a file that is not a SQLite database', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'notes.db');
      writeFileSync(file, 'shopping list: eggs, milk\n'.repeat(100));
      await assert.rejects(openQueue(`sqlite:${file}`), (error: unknown) => {
        assert.ok(error instanceof StoreError, `expected StoreError, got ${error}`);
        assert.match(error.message, /notes\.db: file is not a database/);
        return true;
      });
      assert.equal(readFileSync(file, 'utf8'), 'shopping list: eggs, milk\n'.repeat(100), 'the file is untouched');
    } finally {
      cleanup();
    }
  });
});

test('calls on a closed queue are refused with ValidationError, and nothing reaches the file', async () => {
  const { url, cleanup } = sqliteUrl();
  try {
    const queue = await openQueue({ url });
    await queue.add('before-close', {});
    await queue.close();
    for (const call of [() => queue.add('after-close', {}), () => queue.addBulk([{ name: 'after-close' }]), () => queue.listJobs(), () => queue.worker({ a: () => 1 })]) {
      await assert.rejects(async () => call(), (e: unknown) => e instanceof ValidationError && e.message.includes('the queue is closed; open a new one with openQueue()'));
    }
    const reopened = await openQueue({ url });
    try {
      assert.deepEqual((await reopened.listJobs()).map((j) => j.name), ['before-close']);
    } finally {
      await reopened.close();
    }
  } finally {
    cleanup();
  }
});
