// Where the time of a PostgreSQL drain goes: drains W3's no-op jobs through the benchmark's own adapters, for
// Spool and for floor variants, interleaved and repeated, and reports per job of the drain (the enqueue before
// it left out): CPU of this node process, CPU of the whole PostgreSQL server (every backend, the WAL writer,
// the checkpointer) and of each client backend by application_name, WAL bytes, and, where the server loads
// pg_stat_statements, calls and mean time of each statement. Meant for a private server that nothing else
// uses (the server-wide figures are only this run's there):
//
//   BENCH_PG_URL=postgres://postgres@127.0.0.1:5499/test npx tsx bench/pg-profile.ts \
//     [--systems spool-postgres,floor-postgres/b1000-pipe] [--case c10] [--reps 3] [--jobs 20000]
//
// Never part of npm test. PostgreSQL CPU comes from /proc (the postmaster's children, live and reaped), so
// the server must run on this machine.
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ADAPTERS } from './adapters/registry.ts';
import { PG_URL } from './lib/pg-admin.ts';
import { FULL } from './workloads.ts';

const { values: args } = parseArgs({
  options: {
    systems: { type: 'string', default: 'spool-postgres,floor-postgres/b1000-pipe,floor-postgres/b400-combined' },
    case: { type: 'string', default: 'c10' },
    reps: { type: 'string', default: '3' },
    jobs: { type: 'string', default: String(FULL.drainJobs) },
  },
});
const REPS = Number(args.reps);
const sizes = { ...FULL, drainJobs: Number(args.jobs), finishedRows: 200_000 };

const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
const postmaster = Number((await admin.query(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`)).rows[0]?.pid);
const ppid = Number(readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const hasPgss = (await admin.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_stat_statements'`)).rows[0].n > 0;

/** CPU ms of the PostgreSQL server: the postmaster, its live children, and the children it has reaped. */
function serverCpuMs(): number {
  const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const own = stat(ppid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = stat(Number(entry));
      if (Number(s[1]) === ppid) ticks += Number(s[11]) + Number(s[12]);
    } catch {
      // ended meanwhile: its time is in the postmaster's reaped-children total
    }
  }
  return ticks * 10;
}

/**
 * Samples the CPU of every client backend every 50 ms while a run goes, by application_name, so the server's
 * time can be split (worker connections, the LISTEN connection, the benchmark's own look-ups).
 */
function sampleBackends(): { stop: () => Promise<Map<string, number>> } {
  const last = new Map<number, { app: string; ms: number; first: number }>();
  const sampler = new pg.Client({ connectionString: PG_URL, application_name: 'pg-profile-sampler' });
  let stopped = false;
  const loop = (async () => {
    await sampler.connect();
    while (!stopped) {
      const { rows } = await sampler.query(`SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS app FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`);
      for (const r of rows as { pid: number; app: string }[]) {
        try {
          const f = readFileSync(`/proc/${r.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          const ms = (Number(f[11]) + Number(f[12])) * 10;
          const seen = last.get(r.pid);
          last.set(r.pid, { app: r.app.replace(/bench_[a-z0-9_]+/g, '<schema>'), ms, first: seen?.first ?? ms });
        } catch {
          // gone
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await sampler.end();
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const byApp = new Map<string, number>();
      for (const { app, ms, first } of last.values()) byApp.set(app, (byApp.get(app) ?? 0) + ms - first);
      return byApp;
    },
  };
}

const runs = new Map<string, { rate: number; nodeMs: number; pgMs: number; wal: number; statements: string; split: string }[]>();
for (let rep = 1; rep <= REPS; rep++) {
  for (const spec of args.systems!.split(',')) {
    const [id, variantId = 'default'] = spec.split('/');
    const adapter = ADAPTERS.find((a) => a.id === id);
    const variant = adapter?.variants.find((v) => v.id === variantId);
    if (!adapter || !variant) throw new Error(`unknown system ${spec}`);
    // W3's drain, measured from starting the worker to the store showing none left: the enqueue before it
    // is not in the figures.
    const session = await adapter.open(variant, { count: false });
    let rate: number;
    let node: NodeJS.CpuUsage;
    let pgMs: number;
    let wal: number;
    let byApp: Map<string, number>;
    try {
      for (let i = 0; i < sizes.drainJobs; i += sizes.bulkBatch) {
        await session.addBulk(Array.from({ length: Math.min(sizes.bulkBatch, sizes.drainJobs - i) }, (_, j) => ({ name: 'bench-noop', data: { i: i + j } })));
      }
      if (hasPgss) await admin.query('SELECT pg_stat_statements_reset()');
      const wal0 = (await admin.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l as string;
      const sampler = sampleBackends();
      const pg0 = serverCpuMs();
      const node0 = process.cpuUsage();
      const t0 = performance.now();
      let ran = 0;
      await session.startWorker(['bench-noop'], () => { ran++; }, Number(args.case!.slice(1)));
      while (ran < sizes.drainJobs || (await session.unfinished('bench-noop')) > 0) await new Promise((r) => setTimeout(r, ran < sizes.drainJobs ? 5 : 1));
      rate = sizes.drainJobs / ((performance.now() - t0) / 1000);
      node = process.cpuUsage(node0);
      pgMs = serverCpuMs() - pg0;
      byApp = await sampler.stop();
      wal = Number((await admin.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d', [wal0])).rows[0].d);
      await session.stopWorker();
    } finally {
      await session.close();
    }
    const split = [...byApp].filter(([, ms]) => ms > 0).map(([app, ms]) => `${app} ${(ms / sizes.drainJobs).toFixed(3)}`).join(', ');
    let statements = '';
    if (hasPgss) {
      const { rows } = await admin.query(
        `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS q, calls::int, total_exec_time / calls AS ms, rows::int
           FROM pg_stat_statements WHERE calls >= 5 AND query NOT ILIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 4`);
      statements = rows.map((r) => `${r.calls}× ${(r.ms as number).toFixed(2)} ms (${r.q})`).join('; ');
    }
    const row = { rate, nodeMs: (node.user + node.system) / 1000 / sizes.drainJobs, pgMs: pgMs / sizes.drainJobs, wal: wal / sizes.drainJobs, statements, split };
    (runs.get(spec) ?? runs.set(spec, []).get(spec)!).push(row);
    process.stderr.write(`rep ${rep} ${spec}: ${Math.round(rate)} jobs/s, node ${row.nodeMs.toFixed(3)} ms/job, server ${row.pgMs.toFixed(3)} ms/job (backends, ms/job: ${split})\n`);
  }
}
await admin.end();

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`| system | W3 ${args.case} drain jobs/s (best; all) | node CPU ms/job | server CPU ms/job | WAL B/job | top statements (first run) |`);
console.log('| --- | --- | ---: | ---: | ---: | --- |');
for (const [spec, rs] of runs) {
  console.log(`| ${spec} | ${Math.round(Math.max(...rs.map((r) => r.rate)))} (${rs.map((r) => Math.round(r.rate)).join(', ')}) | ${med(rs.map((r) => r.nodeMs)).toFixed(3)} | ${med(rs.map((r) => r.pgMs)).toFixed(3)} | ${Math.round(med(rs.map((r) => r.wal)))} | ${rs[0]!.statements} |`);
}
process.exit(0);
