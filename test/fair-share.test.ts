import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { openQueue } from '../src/index.ts';
import { type Fixture, killAll, spawnFixture } from './support/children.ts';
import { type LogWorker, readLog, startLogWorker } from './support/log-worker.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';
import { tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';

const JOBS = 300;
const CONCURRENCY = 4;

before(requirePostgres);

/** Each worker's share must be within ±25% of an even split. */
function assertFair(shares: number[], what: string): void {
  const even = JOBS / shares.length;
  assert.equal(shares.reduce((a, b) => a + b, 0), JOBS, `${what}: every job ran once`);
  for (const share of shares) {
    assert.ok(Math.abs(share - even) <= 0.25 * even, `${what}: split ${shares.join(' / ')}, each should be within ±25% of ${even}`);
  }
}

for (const workMs of [20, 5]) {
  test(`SQLite: two worker processes of concurrency 4 over ${JOBS} jobs of ${workMs} ms each run a fair share (±25%)`, async (t) => {
    const { dir, cleanup } = tempDir();
    const url = `sqlite:${join(dir, 'spool.db')}`;
    const log = join(dir, 'jobs.log');
    const queue = await openQueue({ url });
    const workers: LogWorker[] = [];
    try {
      // Both processes run and poll before the backlog lands, as two machines started by a deploy would.
      workers.push(...(await Promise.all([1, 2].map(() => startLogWorker({ url, log, workMs, concurrency: CONCURRENCY })))));
      await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'work', data: { i } })));
      await waitFor(() => readLog(log).filter((l) => l.event === 'done').length >= JOBS, `${JOBS} jobs done`, 60_000);
      const done = readLog(log).filter((l) => l.event === 'done');
      const shares = workers.map((w) => done.filter((l) => l.pid === w.fixture.child.pid).length);
      t.diagnostic(`split ${shares.join(' / ')}`);
      assertFair(shares, `${workMs} ms jobs`);
    } finally {
      await killAll(workers.map((w) => w.fixture));
      await queue.close();
      cleanup();
    }
  });

  test(`PostgreSQL: two worker processes of concurrency 4 over ${JOBS} jobs of ${workMs} ms each run a fair share (±25%)`, async (t) => {
    const schema = freshSchemaName();
    const queue = await openQueue({ url: PG_URL, schema, pool: { max: 1 } });
    const workers: Fixture[] = [1, 2].map(() =>
      spawnFixture('pg-worker.ts', { SPOOL_TEST_URL: PG_URL, SPOOL_TEST_SCHEMA: schema, CONCURRENCY: String(CONCURRENCY), WORK_MS: String(workMs) }));
    try {
      await Promise.all(workers.map((w) => w.waitForLine((l) => l.startsWith('ready'), 'ready', 60_000)));
      await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'work', data: { i } })));
      const doneBy = () => workers.map((w) => w.lines.filter((l) => l.startsWith('done ')).length);
      await waitFor(() => doneBy().reduce((a, b) => a + b, 0) >= JOBS, `${JOBS} jobs done`, 60_000);
      t.diagnostic(`split ${doneBy().join(' / ')}`);
      assertFair(doneBy(), `${workMs} ms jobs`);
    } finally {
      await killAll(workers);
      await queue.close();
      await dropSchema(schema);
    }
  });
}
