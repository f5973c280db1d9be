import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import pg from 'pg';
import { openQueue, ValidationError } from '../src/index.ts';
import { decodePayload } from '../src/store/postgres/notify-feed.ts';
import { channelName, PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { buildStatements } from '../src/store/postgres/statements.ts';
import { SCHEMA_VERSION } from '../src/store/postgres/schema.ts';
import type { NewJob } from '../src/store/store.ts';
import { dropSchema, freshSchemaName, openTestStore, PG_URL, pollUntil, requirePostgres, withAdmin } from './support/postgres.ts';
import { sqliteUrl } from './support/sqlite.ts';

const T0 = Date.UTC(2030, 0, 1);
const job = (name = 'work', extra: Partial<NewJob> = {}): NewJob => ({
  name, dataJson: '{}', priority: 0, runAt: T0, maxAttempts: 3, backoff: null, timeout: null, uniqueKey: null, ...extra,
});

/** A raw LISTEN on the store's channel: what each statement sends, counted between sentinels. */
async function listenRaw(schema: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const channel = channelName(schema);
  const payloads: string[] = [];
  let sentinel: { token: string; resolve: () => void } | undefined;
  client.on('notification', (m) => {
    if (sentinel && m.payload === sentinel.token) sentinel.resolve();
    else payloads.push(m.payload ?? '');
  });
  await client.query(`LISTEN "${channel}"`);
  let n = 0;
  return {
    /** Every payload sent since the last call: a sentinel NOTIFY sent now arrives after all earlier commits. */
    async drain(): Promise<string[]> {
      const token = `sentinel-${n++}`;
      const arrived = new Promise<void>((resolve) => (sentinel = { token, resolve }));
      await withAdmin((c) => c.query('SELECT pg_notify($1, $2)', [channel, token]));
      await arrived;
      return payloads.splice(0);
    },
    close: () => client.end(),
  };
}


before(requirePostgres);

test('each job-changing batch statement sends exactly one NOTIFY, itemising ids and names per change', async () => {
  const { store, schema, cleanup } = await openTestStore();
  const feed = await listenRaw(schema);
  try {
    const ids = await store.enqueue({ jobs: [job('a'), job('a'), job('b')], now: T0 });
    let sent = await feed.drain();
    assert.equal(sent.length, 1);
    assert.deepEqual(decodePayload(sent[0]), [{ type: 'added', ids, names: ['a', 'b'], runAt: T0, count: 3 }]);

    const { jobs } = await store.claim({ names: ['a', 'b'], limit: 2, workerId: 'w', leaseMs: 1000, now: T0 });
    sent = await feed.drain();
    assert.equal(sent.length, 1);
    assert.deepEqual(decodePayload(sent[0]).map((e) => e.type), ['started']);

    await store.tick({ workerId: 'w', leaseMs: 1000, now: T0, running: jobs.map((j) => j.id), progress: [{ id: jobs[0]!.id, json: '1' }] });
    sent = await feed.drain();
    assert.equal(sent.length, 1);
    assert.deepEqual(decodePayload(sent[0]).map((e) => [e.type, e.type !== 'external' && e.ids]), [['progress', [jobs[0]!.id]]]);

    await store.claim({
      names: ['a', 'b'], limit: 5, workerId: 'w', leaseMs: 1000, now: T0 + 1,
      finish: [{ id: jobs[0]!.id, status: 'completed', resultJson: '1' }, { id: jobs[1]!.id, status: 'retry', runAt: T0 + 500, error: 'e', errorStack: null }],
    });
    sent = await feed.drain();
    assert.equal(sent.length, 1, 'claim and the outcomes it carries share one NOTIFY');
    assert.deepEqual(decodePayload(sent[0]).map((e) => e.type).sort(), ['completed', 'retrying', 'started']);

    await store.claim({ names: ['a', 'b'], limit: 5, workerId: 'w', leaseMs: 1000, now: T0 + 2 });
    await store.tick({ workerId: 'w', leaseMs: 1000, now: T0 + 2, running: [ids[2]!], progress: [] });
    assert.deepEqual(await feed.drain(), [], 'statements that change nothing visible send nothing');
  } finally {
    await feed.close();
    await cleanup();
  }
});

test('a batch too large to itemise sends one summary NOTIFY under 8000 bytes', async () => {
  const { store, schema, cleanup } = await openTestStore();
  const feed = await listenRaw(schema);
  try {
    await store.enqueue({ jobs: Array.from({ length: 3000 }, (_, i) => job(i % 2 ? 'odd' : 'even')), now: T0 });
    const sent = await feed.drain();
    assert.equal(sent.length, 1);
    assert.ok(Buffer.byteLength(sent[0]!) < 8000, `payload of ${Buffer.byteLength(sent[0]!)} bytes`);
    assert.deepEqual(decodePayload(sent[0]), [{ type: 'added', ids: [], names: ['even', 'odd'], runAt: T0, count: 3000 }]);
  } finally {
    await feed.close();
    await cleanup();
  }
});

test('a watching store hears changes made through another store, and re-listens after its connection is killed', async () => {
  const { store: writer, schema, cleanup } = await openTestStore();
  const watcher = await PostgresStore.open({ url: PG_URL, schema, logger: quietLogger() });
  const heard: string[] = [];
  const stop = watcher.watch((events) => heard.push(...events.map((e) => e.type)));
  try {
    await watcher.listening();
    await writer.enqueue({ jobs: [job()], now: T0 });
    await pollUntil(async () => heard.includes('added'), "the watcher's 'added' event", 10_000, 10);
    const killed = await withAdmin(async (c) => (await c.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`spool/${schema}/listen`],
    )).rowCount);
    assert.equal(killed, 1);
    await pollUntil(async () => heard.includes('external'), 'the reconnect notice', 10_000, 10);
    await watcher.listening();
    await writer.claim({ names: ['work'], limit: 1, workerId: 'w', leaseMs: 1000, now: T0 });
    await pollUntil(async () => heard.includes('started'), "the 'started' event after reconnecting", 10_000, 10);
  } finally {
    stop();
    await watcher.close();
    await cleanup();
  }
});

test('opening the same schema twice applies its migrations once', async () => {
  const { store, schema, cleanup } = await openTestStore();
  const again = await PostgresStore.open({ url: PG_URL, schema });
  try {
    assert.equal(store.migrationsApplied, SCHEMA_VERSION);
    assert.equal(again.migrationsApplied, 0);
    const versions = await withAdmin(async (c) => (await c.query(`SELECT version FROM "${schema}".migrations ORDER BY version`)).rows);
    assert.deepEqual(versions.map((r) => r.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  } finally {
    await again.close();
    await cleanup();
  }
});

test('openQueue opens postgres:// and postgresql:// URLs with the schema and pool options', async () => {
  const schema = freshSchemaName();
  try {
    for (const url of [PG_URL, PG_URL.replace(/^postgres:/, 'postgresql:')]) {
      const queue = await openQueue({ url, schema, pool: { max: 2 } });
      assert.equal(queue.store.kind, 'postgres');
      assert.equal((queue.store as PostgresStore).poolStats().max, 2);
      await queue.add('x', { n: 1 });
      await queue.close();
    }
    const rows = await withAdmin(async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)).rows);
    assert.equal(rows[0].n, 2);
  } finally {
    await dropSchema(schema);
  }
});

test('a missing server is a StoreError naming the URL, not a hang', async () => {
  await assert.rejects(openQueue({ url: 'postgres://postgres@127.0.0.1:1/test', schema: freshSchemaName() }), /could not open PostgreSQL database postgres:\/\/postgres@127\.0\.0\.1:1\/test/);
});

test('transactional enqueue: a rolled-back transaction leaves no job, a committed one runs', async () => {
  const schema = freshSchemaName();
  const queue = await openQueue({ url: PG_URL, schema, pool: { max: 2 } });
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query('BEGIN');
    const rolledBack = await queue.add('mail', { to: 'a' }, { client });
    assert.equal(await queue.getJob(rolledBack), null, 'invisible outside the transaction before commit');
    await client.query('ROLLBACK');
    assert.equal(await queue.getJob(rolledBack), null);
    assert.equal((await queue.counts()).pending, 0);

    const ran: unknown[] = [];
    const worker = queue.worker({ mail: (j) => { ran.push(j.data); return 'sent'; } }, { pollMs: 60_000 });
    await worker.start();
    await (queue.store as PostgresStore).listening();
    await client.query('BEGIN');
    const [committed] = await queue.addBulk([{ name: 'mail', data: { to: 'b' }, options: { client } }]);
    await client.query('COMMIT');
    // pollMs is a minute: only the commit's NOTIFY can wake the worker this soon.
    await pollUntil(async () => (await queue.getJob(committed!))?.status === 'completed', 'the committed job to run', 20_000);
    assert.deepEqual(ran, [{ to: 'b' }]);
  } finally {
    await client.end();
    await queue.close();
    await dropSchema(schema);
  }
});

test('options.client on SQLite is a ValidationError that says it needs PostgreSQL, and writes nothing', async () => {
  const { url, cleanup } = sqliteUrl();
  const queue = await openQueue(url);
  try {
    const fakeClient = { query: async () => ({ rows: [] }) };
    await assert.rejects(queue.add('mail', {}, { client: fakeClient }), (e: Error) => e instanceof ValidationError && /needs PostgreSQL/.test(e.message));
    await assert.rejects(queue.add('mail', {}, { client: {} as never }), (e: Error) => e instanceof ValidationError && /options\.client must be a pg Client/.test(e.message));
    await assert.rejects(
      queue.addBulk([{ name: 'a', options: { client: fakeClient } }, { name: 'b' }]),
      (e: Error) => e instanceof ValidationError && /same client on every job/.test(e.message),
    );
    assert.equal((await queue.counts()).pending, 0);
  } finally {
    await queue.close();
    cleanup();
  }
});

function quietLogger() {
  return { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
}

test('a feed listener that names its change types hears only those; the others still hear everything', async () => {
  const { store: writer, schema, cleanup } = await openTestStore();
  const watcher = await PostgresStore.open({ url: PG_URL, schema });
  const typed: string[] = [];
  const all: string[] = [];
  const stopTyped = watcher.watch((events) => typed.push(...events.map((e) => e.type)), ['added', 'retrying']);
  const stopAll = watcher.watch((events) => all.push(...events.map((e) => e.type)));
  try {
    await watcher.listening();
    await pollUntil(async () => typed.includes('external') && all.includes('external'), 'the first-LISTEN notice', 10_000, 10);
    const [id] = await writer.enqueue({ jobs: [job()], now: T0 });
    await writer.claim({ names: ['work'], limit: 1, workerId: 'w', leaseMs: 1000, now: T0 });
    await writer.finish({ workerId: 'w', now: T0, outcomes: [{ id: id!, status: 'retry', runAt: T0, error: 'e', errorStack: null }] });
    await writer.claim({ names: ['work'], limit: 1, workerId: 'w', leaseMs: 1000, now: T0 });
    await writer.finish({ workerId: 'w', now: T0, outcomes: [{ id: id!, status: 'completed', resultJson: '1' }] });
    await pollUntil(async () => all.filter((t) => t === 'completed').length === 1, "the plain listener's 'completed'", 10_000, 10);
    assert.deepEqual(all, ['external', 'added', 'started', 'retrying', 'started', 'completed']);
    assert.deepEqual(typed, ['external', 'added', 'retrying']);
  } finally {
    stopTyped();
    stopAll();
    await watcher.close();
    await cleanup();
  }
});

test('listing a page over a backlog reads about a page, whatever the filter (no walk of every pending job)', async () => {
  const { store, schema, cleanup } = await openTestStore();
  const client = new pg.Client({ connectionString: PG_URL, options: '-c enable_bitmapscan=off -c plan_cache_mode=force_generic_plan' });
  await client.connect();
  try {
    for (let b = 0; b < 3; b++) {
      await store.enqueue({ jobs: Array.from({ length: 1000 }, (_, i) => job(`n${i % 10}`, { dataJson: String(i) })), now: T0 });
    }
    await store.claim({ names: ['n1'], limit: 20, workerId: 'w', leaseMs: 60_000, now: T0 });
    const { list } = buildStatements(schema, channelName(schema));
    const cursor = '9223372036854775807';
    const shapes: [string, { text: string }, unknown[]][] = [
      ['all', list.all, [cursor, 50, 0]],
      ['pending', list.pending, [cursor, 50, 0]],
      ['running', list.running, [cursor, 50, 0]],
      ['name', list.name, [cursor, 50, 0, 'n3']],
      ['pending of a name', list.pendingName, [cursor, 50, 0, 'n3']],
    ];
    for (const [what, statement, values] of shapes) {
      await client.query(`PREPARE page AS ${statement.text}`);
      const literals = values.map((v) => (typeof v === 'number' ? String(v) : `'${v}'`)).join(', ');
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF) EXECUTE page(${literals})`);
      await client.query('DEALLOCATE page');
      let widest = 0;
      const walk = (node: { 'Actual Rows': number; 'Actual Loops': number; Plans?: unknown[] }) => {
        widest = Math.max(widest, node['Actual Rows'] * node['Actual Loops']);
        for (const child of node.Plans ?? []) walk(child as typeof node);
      };
      walk(rows[0]['QUERY PLAN'][0].Plan);
      // A page of 50 (the running branch reads its 20 rows); reading the backlog would show 3,000.
      assert.ok(widest <= 120, `listing ${what} read ${widest} rows for a page of 50 over 3,000 jobs`);
    }
  } finally {
    await client.end();
    await cleanup();
  }
});
