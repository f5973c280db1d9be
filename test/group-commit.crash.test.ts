import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { openQueue } from '../src/index.ts';
import { killAll, spawnFixture } from './support/children.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { sqliteUrl } from './support/sqlite.ts';

before(requirePostgres);

/**
 * A child adds with 64 concurrent producers (so adds share commits) and is SIGKILLed mid-stream; every job
 * whose add() had resolved before the kill must be in the database afterwards.
 */
async function killAfterAdds(env: Record<string, string>, open: () => ReturnType<typeof openQueue>): Promise<number> {
  const child = spawnFixture('add-forever.ts', env);
  try {
    await child.waitForLine((l) => l === 'ready', 'the producer to open its queue', 60_000);
    await child.waitForLine(() => child.lines.filter((l) => l.startsWith('added ')).length >= 500, '500 resolved adds', 60_000);
    child.child.kill('SIGKILL');
    assert.equal(await child.exited, 'SIGKILL');
  } finally {
    await killAll([child]);
  }
  const acknowledged = child.lines.filter((l) => l.startsWith('added ')).map((l) => l.slice('added '.length));
  const queue = await open();
  try {
    const stored = new Set<string>();
    for (let cursor: string | undefined; ;) {
      const page = await queue.listJobs({ name: 'durable', limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const job of page) stored.add(job.id);
      if (page.length < 1000) break;
      cursor = page[page.length - 1]!.id;
    }
    const lost = acknowledged.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged adds are missing after the SIGKILL`);
    return acknowledged.length;
  } finally {
    await queue.close();
  }
}

test('SQLite: a process SIGKILLed right after its concurrent add() calls resolved loses none of those jobs', async (t) => {
  const { url, cleanup } = sqliteUrl();
  try {
    const n = await killAfterAdds({ SPOOL_TEST_URL: url }, () => openQueue({ url }));
    t.diagnostic(`${n} acknowledged adds, all stored`);
  } finally {
    cleanup();
  }
});

test('PostgreSQL: a process SIGKILLed right after its concurrent add() calls resolved loses none of those jobs', async (t) => {
  const schema = freshSchemaName();
  try {
    const n = await killAfterAdds({ SPOOL_TEST_URL: PG_URL, SPOOL_TEST_SCHEMA: schema }, () => openQueue({ url: PG_URL, schema }));
    t.diagnostic(`${n} acknowledged adds, all stored`);
  } finally {
    await dropSchema(schema);
  }
});
