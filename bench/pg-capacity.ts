// Measures the PostgreSQL store's capacity figures quoted in docs/SCALING.md: drain rate of no-op jobs,
// statements and round trips per job, node CPU and PostgreSQL backend CPU per job, WAL bytes per job.
//
//   npx tsx bench/pg-capacity.ts [--jobs 20000] [--processes 1] [--concurrency 50] [--prefill 0]
//
// Workers are separate processes (bench/pg-capacity-worker.ts), started and idle before the jobs are added,
// so the clock runs from the first insert to the last completion. PostgreSQL CPU is read from /proc for the
// backends of this run (application_name spool/<schema>); it excludes the WAL writer and checkpointer.
// WAL bytes are server-wide: run it on a quiet server. Never part of npm test.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openQueue } from '../src/index.ts';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    processes: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '50' },
    prefill: { type: 'string', default: '0' },
    url: { type: 'string', default: process.env.SPOOL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const JOBS = Number(args.jobs);
const PROCESSES = Number(args.processes);
const url = args.url!;
const schema = `spool_bench_${randomBytes(4).toString('hex')}`;

const admin = new pg.Client({ connectionString: url, application_name: 'spool-bench-admin' });
await admin.connect();
const queue = await openQueue({ url, schema, pool: { max: 2 } });

if (Number(args.prefill) > 0) {
  // Finished history the claim must not wade through: the partial index keeps it out of the hot set.
  await admin.query(
    `INSERT INTO "${schema}".jobs_done (id, name, data, status, max_attempts, run_at, created_at, completed_at, attempts)
     SELECT nextval('"${schema}".job_ids'), 'noop', '{}', 'completed', 3, now(), now(), now(), 1 FROM generate_series(1, $1)`,
    [Number(args.prefill)],
  );
  await admin.query(`VACUUM ANALYZE "${schema}".jobs_done`);
}

const workerScript = fileURLToPath(new URL('./pg-capacity-worker.ts', import.meta.url));
const workers = Array.from({ length: PROCESSES }, () => {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript], {
    env: { ...process.env, BENCH_URL: url, BENCH_SCHEMA: schema, BENCH_CONCURRENCY: args.concurrency },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const ready = new Promise<void>((resolve) => {
    const check = () => (out.includes('ready\n') ? resolve() : setTimeout(check, 20));
    check();
  });
  const report = new Promise<{ cpuMs: number; statements: number; roundTrips: number; byMethod: Record<string, number>; completed: number }>(
    (resolve) => child.on('exit', () => resolve(JSON.parse(out.split('\n').filter(Boolean).pop()!))),
  );
  return { child, ready, report };
});
await Promise.all(workers.map((w) => w.ready));

const backendCpuMs = async (): Promise<number> => {
  const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1`, [`spool/${schema}%`]);
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // Not on this machine, or the backend ended: the figure is then a lower bound.
    }
  }
  return ticks * 10; // CLK_TCK is 100 on Linux
};
const walLsn = async () => (await admin.query(`SELECT pg_current_wal_lsn() AS lsn`)).rows[0].lsn as string;
const lsnBytes = (lsn: string) => { const [hi, lo] = lsn.split('/'); return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16); };

// Jobs of this run have ids above every prefilled one: counting them is an index range scan of jobs_done (status, id).
const firstId = (await admin.query(`SELECT coalesce(max(id), 0)::text AS id FROM "${schema}".jobs`)).rows[0].id as string;
const cpu0 = await backendCpuMs();
const wal0 = await walLsn();
const enqueueBefore = queue.stats();
const t0 = performance.now();
for (let done = 0; done < JOBS; done += 5000) {
  await queue.addBulk(Array.from({ length: Math.min(5000, JOBS - done) }, (_, i) => ({ name: 'noop', data: { i: done + i } })));
}
const enqueueMs = performance.now() - t0;
const enqueueStatements = queue.stats().statements - enqueueBefore.statements;
for (;;) {
  const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".jobs_done WHERE status = 'completed' AND id > $1`, [firstId]);
  if (rows[0].n >= JOBS) break;
  await new Promise((r) => setTimeout(r, 50));
}
const drainMs = performance.now() - t0;
const cpu1 = await backendCpuMs();
const wal1 = await walLsn();
for (const w of workers) w.child.kill('SIGTERM');
const reports = await Promise.all(workers.map((w) => w.report));
await queue.close();
// Backends report table statistics at most once a second: wait for the last report before reading.
await new Promise((r) => setTimeout(r, 1_500));
// Both tables of the layout (jobs is a view over jobs_live and jobs_done).
const tableStats = (await admin.query(
  `SELECT sum(n_tup_ins)::int AS ins, sum(n_tup_upd)::int AS upd, sum(n_tup_hot_upd)::int AS hot, sum(n_dead_tup)::int AS dead
     FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('jobs_live', 'jobs_done')`,
  [schema],
)).rows[0] as { ins: number; upd: number; hot: number; dead: number };
await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();

const workerStatements = reports.reduce((a, r) => a + r.statements, 0);
const nodeCpuMs = reports.reduce((a, r) => a + r.cpuMs, 0);
const pgCpuMs = cpu1 - cpu0;
const byMethod: Record<string, number> = {};
for (const r of reports) for (const [k, v] of Object.entries(r.byMethod)) byMethod[k] = (byMethod[k] ?? 0) + v;
const fmt = (n: number, d = 2) => n.toFixed(d);
console.log(JSON.stringify({ jobs: JOBS, processes: PROCESSES, concurrency: Number(args.concurrency), prefill: Number(args.prefill) }));
console.log(`end-to-end drain: ${fmt(JOBS / (drainMs / 1000), 0)} jobs/s (${fmt(drainMs, 0)} ms from first insert to last completion)`);
console.log(`enqueue: ${fmt(JOBS / (enqueueMs / 1000), 0)} jobs/s in ${enqueueStatements} statements (addBulk of 5,000)`);
console.log(`worker statements per job: ${fmt(workerStatements / JOBS, 3)} (${JSON.stringify(byMethod)}); with enqueue ${fmt((workerStatements + enqueueStatements) / JOBS, 3)}`);
console.log(`worker node CPU per job: ${fmt(nodeCpuMs / JOBS, 3)} ms -> ${fmt(JOBS / (nodeCpuMs / 1000), 0)} jobs/s per core`);
console.log(`PostgreSQL backend CPU per job: ${fmt(pgCpuMs / JOBS, 3)} ms -> ${fmt(JOBS / (pgCpuMs / 1000), 0)} jobs/s per core`);
console.log(`WAL per job: ${fmt((lsnBytes(wal1) - lsnBytes(wal0)) / JOBS, 0)} bytes (server-wide)`);
console.log(`row versions: ${fmt(tableStats.upd / JOBS, 2)} updates per job (${fmt(tableStats.hot / Math.max(1, tableStats.upd) * 100, 0)} % HOT), ${fmt(tableStats.dead / JOBS, 2)} dead tuples per job left for vacuum`);
