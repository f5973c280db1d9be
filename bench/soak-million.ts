// The long soak, outside npm test: JOBS jobs (default 1,000,000) through one store with progress, a worker in
// its own process reporting its RSS and the throughput of every 100,000 jobs, so a leak or a slowdown as the
// table of finished jobs grows shows as a trend.
//
//   npx tsx bench/soak-million.ts --store sqlite|postgres [--jobs 1000000] [--concurrency 50] [--every 100000]
//
// Jobs are added in batches of 10,000 whenever fewer than 50,000 wait, so the backlog stays bounded while
// every finished job stays in the table (no prune): the table grows to JOBS rows. Each job reports progress
// three times. A figure from a loaded machine is indicative only; the load average is printed at the start.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openQueue } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    jobs: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '50' },
    every: { type: 'string', default: '100000' },
    child: { type: 'boolean', default: false },
    url: { type: 'string' },
    schema: { type: 'string' },
  },
});
const every = Number(values.every);

if (values.child) {
  // The worker process: runs jobs, prints `at <completed> <rss bytes> <heap bytes>` every `every` jobs.
  const queue = await openQueue({ url: values.url!, ...(values.schema ? { schema: values.schema } : {}), pool: { max: 2 } });
  let done = 0;
  const worker = queue.worker(
    {
      soak: async (_job, ctx) => {
        ctx.progress({ step: 1 });
        ctx.progress({ step: 2 });
        ctx.progress({ step: 3 });
        return null;
      },
    },
    { concurrency: Number(values.concurrency), pollMs: 100 },
  );
  queue.on('completed', () => {
    if (++done % every === 0) {
      const m = process.memoryUsage();
      process.send!(`at ${done} ${m.rss} ${m.heapUsed}`);
    }
  });
  process.on('message', (message) => {
    // The IPC channel keeps a forked child alive: close it once the queue is closed, so the process exits.
    if (message === 'stop') void worker.stop().then(() => queue.close()).then(() => process.disconnect());
  });
  await worker.start();
  process.send!('ready');
} else {
  const total = Number(values.jobs);
  const dir = mkdtempSync(join(tmpdir(), 'spool-soak-'));
  const url = values.store === 'sqlite' ? `sqlite:${join(dir, 'soak.db')}` : (process.env.SPOOL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const schema = values.store === 'postgres' ? `spool_soak_${process.pid}` : undefined;
  const queue = await openQueue({ url, ...(schema ? { schema } : {}), pool: { max: 2 } });
  console.log(`soak on ${values.store}: ${total.toLocaleString('en')} jobs, concurrency ${values.concurrency}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const child = fork(fileURLToPath(import.meta.url), ['--child', '--url', url, ...(schema ? ['--schema', schema] : []), '--concurrency', values.concurrency!, '--every', String(every)], {
    execArgv: ['--import', 'tsx'],
  });
  let reported = 0;
  let windowStart = performance.now();
  const started = performance.now();
  const finished = new Promise<void>((resolve) => {
    child.on('message', (message: string) => {
      if (message === 'ready') return;
      const [, done, rss, heap] = message.split(' ').map(Number) as [number, number, number, number];
      const now = performance.now();
      console.log(`${done!.toLocaleString('en').padStart(9)} jobs: worker RSS ${(rss / 2 ** 20).toFixed(0)} MiB, heap ${(heap / 2 ** 20).toFixed(0)} MiB, ${Math.round((every / (now - windowStart)) * 1000).toLocaleString('en')} jobs/s over the last ${every.toLocaleString('en')}`);
      windowStart = now;
      reported = done;
      if (done >= total) resolve();
    });
  });
  let added = 0;
  while (added < total) {
    const counts = await queue.counts();
    if (counts.pending + counts.running < 50_000) {
      const n = Math.min(10_000, total - added);
      await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'soak', data: { i: added + i } })));
      added += n;
    } else await new Promise((r) => setTimeout(r, 200));
  }
  await finished;
  console.log(`${reported.toLocaleString('en')} jobs in ${((performance.now() - started) / 1000).toFixed(0)} s; final counts ${JSON.stringify(await queue.counts())}`);
  child.send('stop');
  await new Promise((r) => child.on('exit', r));
  await queue.close();
  if (schema) {
    const { default: pg } = await import('pg');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}
