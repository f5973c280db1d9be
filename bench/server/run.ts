/**
 * The server benchmark (issue 10): each API read timed at 1,000,000 and 10,000,000 jobs on both stores, and
 * the W3 drain with and without 50 WebSocket clients subscribed to every job.
 *
 *   npx tsx bench/server/run.ts [--db sqlite,postgres] [--sizes 1000000,10000000] [--reads 30]
 *                               [--drain 20000] [--clients 50] [--runs 3] [--only reads|drain]
 *
 * Reads go over HTTP (keep-alive) to a server in this process, after a warm-up. Seeding 10,000,000 jobs takes
 * minutes per store and ~3 GB of disk for SQLite; BENCH_TMPDIR picks the directory. Figures from a loaded
 * machine are rough: the lead runs this on a quiet one. Raw numbers go to bench/results/server-<time>.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openQueue, type Queue } from '../../src/index.ts';
import { createSpoolServer } from '../../src/server/index.ts';
import { describeMachine } from '../lib/machine.ts';
import { dropSchema, freshSchema, PG_URL } from '../lib/pg-admin.ts';
import { seedPostgres, seedSqlite } from './seed.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite,postgres' },
    sizes: { type: 'string', default: '1000000,10000000' },
    reads: { type: 'string', default: '30' },
    drain: { type: 'string', default: '20000' },
    clients: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    /** A line printed above the tables, e.g. "rough: measured on a loaded machine". */
    note: { type: 'string' },
  },
  strict: true,
});
const stores = values.db!.split(',') as ('sqlite' | 'postgres')[];
const sizes = values.sizes!.split(',').map(Number);
const READS = Number(values.reads);
const DRAIN = Number(values.drain);
const CLIENTS = Number(values.clients);
const RUNS = Number(values.runs);

interface Db {
  url: string;
  schema?: string;
  file?: string;
  open(): Promise<Queue>;
  cleanup(): Promise<void>;
}

async function freshDb(store: 'sqlite' | 'postgres'): Promise<Db> {
  if (store === 'sqlite') {
    const dir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), 'spool-server-bench-'));
    const file = join(dir, 'bench.db');
    const url = `sqlite:${file}`;
    return { url, file, open: () => openQueue(url), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = freshSchema('server');
  return { url: PG_URL, schema, open: () => openQueue({ url: PG_URL, schema, pool: { max: 4 } }), cleanup: () => dropSchema(schema) };
}

async function seed(db: Db, n: number): Promise<void> {
  await (await db.open()).close(); // create the tables
  if (db.file) return seedSqlite(db.file, n);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await seedPostgres(client, db.schema!, n);
  } finally {
    await client.end();
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

interface ReadFigure {
  store: string;
  jobs: number;
  read: string;
  p50: number;
  p95: number;
  max: number;
  reads: number;
}

/** The reads a dashboard makes, and what each costs at this size. */
function readsFor(n: number): [string, (i: number) => string, number?][] {
  const q = (data: unknown) => encodeURIComponent(JSON.stringify(data));
  return [
    ['first page (50 newest)', () => '/api/jobs?limit=50'],
    ['filtered page: failed jobs of one name', () => '/api/jobs?status=failed&name=name3&limit=50'],
    ['filtered page: pending', () => '/api/jobs?status=pending&limit=50'],
    ['data search, 1 job in 5,000 matches (first page)', () => `/api/jobs?data=${q({ repo: 'org/r42' })}&limit=50`],
    ['data search, no match (one 100,000-job window)', () => `/api/jobs?data=${q({ repo: 'nowhere' })}&limit=50`],
    ['counts by status and name', () => '/api/stats'],
    ['names (counts, last claim)', () => '/api/names'],
    ['one job by id', (i) => `/api/jobs/${1 + ((i * 7919) % n)}`],
    ['throughput per minute, last 60', () => '/api/stats/throughput?minutes=60'],
    ['count of a filter (status and name)', () => '/api/jobs/count?status=failed&name=name3'],
    // Exact, so a full scan of the filter's jobs: not bounded; a few reads only.
    ['count of a data filter (scans every job)', () => `/api/jobs/count?data=${q({ repo: 'org/r42' })}`, 3],
  ];
}

async function timeReads(store: string, n: number): Promise<ReadFigure[]> {
  const db = await freshDb(store as 'sqlite');
  const figures: ReadFigure[] = [];
  try {
    const t0 = performance.now();
    await seed(db, n);
    process.stderr.write(`${store}: seeded ${n.toLocaleString('en')} jobs in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    const queue = await db.open();
    const server = createSpoolServer(queue, { dashboardDir: false });
    const { url } = await server.listen({ port: 0 });
    try {
      for (const [read, path, count = READS] of readsFor(n)) {
        for (let i = 0; i < 2; i++) await (await fetch(url + path(i))).text(); // warm-up: plans, caches
        const times: number[] = [];
        for (let i = 0; i < count; i++) {
          const start = performance.now();
          const response = await fetch(url + path(i + 2));
          await response.text();
          times.push(performance.now() - start);
          if (response.status !== 200) throw new Error(`${read}: ${response.status}`);
        }
        times.sort((a, b) => a - b);
        const figure = { store, jobs: n, read, p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1)!, reads: count };
        figures.push(figure);
        process.stderr.write(`${store} ${n.toLocaleString('en')} ${read}: p50 ${ms(figure.p50)} ms, p95 ${ms(figure.p95)} ms\n`);
      }
    } finally {
      await server.close();
      await queue.close();
    }
  } finally {
    await db.cleanup();
  }
  return figures;
}

interface DrainFigure {
  store: string;
  clients: number;
  run: number;
  jobsPerSecond: number;
  messages?: number;
}

/** W3: 20,000 no-op jobs drained by one worker at concurrency 10; optionally with N clients of a server elsewhere. */
async function drain(store: string, clients: number, run: number): Promise<DrainFigure> {
  const db = await freshDb(store as 'sqlite');
  const queue = await db.open();
  let child: ReturnType<typeof spawn> | undefined;
  try {
    for (let i = 0; i < DRAIN; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, DRAIN - i) }, (_, k) => ({ name: 'w3', data: { i: i + k } })));
    let out = '';
    if (clients > 0) {
      child = spawn(process.execPath, ['--import', 'tsx', new URL('./clients.ts', import.meta.url).pathname], {
        env: { ...process.env, URL: db.url, ...(db.schema ? { SCHEMA: db.schema } : {}), CLIENTS: String(clients) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
      while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    }
    const worker = queue.worker({ w3: async () => null }, { concurrency: 10 });
    const t0 = performance.now();
    await worker.start();
    while (worker.stats().completed < DRAIN) await new Promise((r) => setTimeout(r, 2));
    const seconds = (performance.now() - t0) / 1000;
    await worker.stop();
    let messages: number | undefined;
    if (child) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      messages = Number(/received (\d+)/.exec(out)?.[1] ?? NaN);
    }
    const figure = { store, clients, run, jobsPerSecond: DRAIN / seconds, ...(messages !== undefined ? { messages } : {}) };
    process.stderr.write(`${store} W3 with ${clients} clients, run ${run}: ${Math.round(figure.jobsPerSecond)} jobs/s${messages !== undefined ? `, ${messages} messages to the clients` : ''}\n`);
    return figure;
  } finally {
    child?.kill('SIGKILL');
    await queue.close();
    await db.cleanup();
  }
}

const reads: ReadFigure[] = [];
const drains: DrainFigure[] = [];
for (const store of stores) {
  if (values.only !== 'drain') for (const n of sizes) reads.push(...(await timeReads(store, n)));
  if (values.only !== 'reads') {
    // Interleaved, so a change in the machine's load hits both variants alike.
    for (let run = 1; run <= RUNS; run++) for (const clients of [0, CLIENTS]) drains.push(await drain(store, clients, run));
  }
}

interface SavedRun {
  machine: { loadAtStart: number };
  args: Record<string, string>;
  reads: ReadFigure[];
  drains: DrainFigure[];
  measuredAt: string;
}

/**
 * With --only, the other half of the section comes from the newest earlier run that measured it (reads at
 * 10,000,000 jobs take a long seed; the drain wants a quiet machine), and the section says when each was taken.
 */
function earlierRun(part: 'reads' | 'drains'): SavedRun | undefined {
  const dir = new URL('../results/', import.meta.url);
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('server-') && n.endsWith('.json')).sort().reverse();
  } catch {
    return undefined;
  }
  for (const name of names) {
    const run = JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as SavedRun;
    if (run[part].length > 0) return { ...run, measuredAt: run.measuredAt ?? name.slice(7, 23).replace(/T(\d\d)-(\d\d)/, ' $1:$2') };
  }
  return undefined;
}
const measuredAt = new Date().toISOString().slice(0, 16).replace('T', ' ');
const info = await describeMachine();
const readsFrom = values.only === 'drain' ? earlierRun('reads') : undefined;
const drainsFrom = values.only === 'reads' ? earlierRun('drains') : undefined;
const shownReads = readsFrom?.reads ?? reads;
const shownDrains = drainsFrom?.drains ?? drains;
const drainClients = drainsFrom ? Number(drainsFrom.args.clients ?? CLIENTS) : CLIENTS;
const when = (run: SavedRun | undefined) => (run ? `${run.measuredAt} UTC, load ${run.machine.loadAtStart} at the start` : `${measuredAt} UTC, load ${info.loadAtStart} at the start`);

const lines = [`Reads measured ${when(readsFrom)}:`, '', '| store | jobs | read | p50 ms | p95 ms | max ms |', '| --- | --- | --- | --- | --- | --- |'];
for (const f of shownReads) lines.push(`| ${f.store} | ${f.jobs.toLocaleString('en')} | ${f.read} | ${ms(f.p50)} | ${ms(f.p95)} | ${ms(f.max)} |`);
lines.push('', `W3 measured ${when(drainsFrom)}:`, '', '| store | W3 (20,000 no-op jobs, concurrency 10) | median jobs/s | runs |', '| --- | --- | --- | --- |');
for (const store of [...new Set(shownDrains.map((d) => d.store))]) {
  for (const clients of [0, drainClients]) {
    const runs = shownDrains.filter((d) => d.store === store && d.clients === clients).map((d) => d.jobsPerSecond).sort((a, b) => a - b);
    if (runs.length > 0) lines.push(`| ${store} | ${clients === 0 ? 'no clients' : `${clients} WebSocket clients subscribed to every job`} | ${Math.round(percentile(runs, 50))} | ${runs.map(Math.round).join(', ')} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
const section = [
  '## Server: API reads at scale, and W3 with WebSocket clients',
  '',
  ...[values.note, readsFrom?.args.note && `Reads: ${readsFrom.args.note}`, drainsFrom?.args.note && `W3: ${drainsFrom.args.note}`].filter(Boolean).flatMap((n) => [`**${n}**`, '']),
  `On ${info.cpuModel}, ${info.cores} cores, with \`npm run bench:server\` (bench/server/run.ts; this run: \`${process.argv.slice(2).join(' ') || 'no arguments'}\`). Reads go over HTTP (keep-alive) to a server on a`,
  'freshly seeded queue (90 % completed, 5 % failed, 4 % pending, 1 % cancelled, 10 names), after a warm-up; the',
  'data search examines at most 100,000 jobs per request (API.md, listPage). W3: 20,000 no-op jobs, one worker at',
  `concurrency 10, with and without a server in another process whose ${CLIENTS} WebSocket clients subscribe to every job.`,
  '',
  ...lines,
  '',
].join('\n');
writeFileSync(new URL('./results.md', import.meta.url), `${section}\n`);
// Also into docs/BENCHMARKS.md now, between markers (the next full report places it again from results.md).
const report = new URL('../../docs/BENCHMARKS.md', import.meta.url);
const md = readFileSync(report, 'utf8');
const start = md.indexOf('## Server: API reads at scale');
const end = start < 0 ? -1 : md.indexOf('\n## ', start + 3);
const next = start >= 0 ? md.slice(0, start) + section + (end >= 0 ? md.slice(end + 1) : '') : md.replace('## Reproduce', `${section}\n## Reproduce`);
writeFileSync(report, next);

const dir = new URL('../results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL(`server-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, dir);
writeFileSync(file, `${JSON.stringify({ machine: info, args: values, measuredAt, reads, drains }, null, 2)}\n`);
process.stderr.write(`raw numbers: ${file.pathname}\n`);
