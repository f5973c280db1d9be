// One worker process of bench/pg-capacity.ts: runs no-op jobs named 'noop'. Prints `ready` once it listens;
// on SIGTERM stops gracefully and prints one JSON line with its CPU time and the statements its store sent.
import { openQueue } from '../src/index.ts';
import type { PostgresStore } from '../src/store/postgres/postgres-store.ts';

const queue = await openQueue({ url: process.env.BENCH_URL!, schema: process.env.BENCH_SCHEMA!, pool: { max: 2 } });
const worker = queue.worker({ noop: () => null }, { concurrency: Number(process.env.BENCH_CONCURRENCY ?? 50) });
const cpuBefore = process.cpuUsage();
await worker.start();
await (queue.store as PostgresStore).listening();
process.stdout.write('ready\n');

process.on('SIGTERM', () => {
  void (async () => {
    await worker.stop();
    const cpu = process.cpuUsage(cpuBefore);
    const stats = queue.stats();
    await queue.close();
    process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, completed: worker.stats().completed, ...stats })}\n`);
    process.exit(0);
  })();
});
