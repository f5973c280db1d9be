import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { StoreError } from '../src/errors.ts';
import { openStore } from '../src/open-queue.ts';
import { Queue } from '../src/queue.ts';
import type { NewJob, Store } from '../src/store/store.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { sqliteUrl } from './support/sqlite.ts';

before(requirePostgres);

/**
 * A real store whose database refuses any insert that carries a job named 'refused', the way PostgreSQL refuses
 * a value it cannot hold (SQLSTATE class 22): a StoreError that is not retryable. Everything else is the store's.
 */
function refusing(store: Store): Store & { enqueues: number } {
  const wrapped = Object.create(store) as Store & { enqueues: number };
  wrapped.enqueues = 0;
  wrapped.enqueue = async (p: { jobs: NewJob[]; now: number }) => {
    wrapped.enqueues++;
    if (p.jobs.some((j) => j.name === 'refused')) {
      throw new StoreError('PostgreSQL store could not insert jobs: value out of range', { cause: new Error('22003'), retryable: false });
    }
    return store.enqueue(p);
  };
  return wrapped;
}

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`${kind}: a shared commit the database refuses for one add is split, so only that add fails`, async () => {
    const db = kind === 'sqlite' ? sqliteUrl() : { url: PG_URL, cleanup: () => {} };
    const schema = freshSchemaName();
    const store = refusing(await openStore(db.url, { schema }));
    const queue = new Queue(store, { clock: { now: () => Date.now() }, logger: { debug() {}, info() {}, warn() {}, error() {} }, maxPayloadBytes: 1 << 20 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 64 }, (_, i) => queue.add(i === 40 ? 'refused' : 'fine', { i })),
      );
      const refused = results.filter((r) => r.status === 'rejected');
      assert.equal(refused.length, 1, 'only the add at fault fails');
      assert.ok((refused[0] as PromiseRejectedResult).reason instanceof StoreError);
      assert.equal(results[40]!.status, 'rejected');
      const ids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const stored = await queue.listJobs({ name: 'fine', limit: 100 });
      assert.deepEqual(stored.map((j) => j.id).sort(), [...ids].sort(), 'the 63 others are stored, each under its own id');
      // The first add(s) alone, the group of the rest, then halving down to the refused add: log2(62) ≈ 6 levels.
      assert.ok(store.enqueues <= 3 + 2 * 6, `${store.enqueues} inserts sent`);
    } finally {
      await queue.close();
      if (kind === 'postgres') await dropSchema(schema);
      db.cleanup();
    }
  });
}
