/**
 * The dashboard in a real browser at 1,000,000 jobs (`npm run bench:dashboard`): the page's first load (the
 * overview, and the job table opened from a link) and a filter change (by name, by data), timed from the
 * navigation or the click until the rows are on screen, in a fresh browser context per run (no cache), plus
 * the bundle's gzipped size. Seeds with one INSERT … SELECT over a recursive CTE (bench/server/seed.ts).
 *
 *   npm run bench:dashboard                          # SQLite, 1,000,000 jobs, 5 runs
 *   npm run bench:dashboard -- --jobs 20000 --runs 2 # a quick check that it works
 *   npm run bench:dashboard -- --db postgres
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { chromium, type Page } from 'playwright-core';
import { openQueue, type Queue } from '../src/index.ts';
import { createSpoolServer } from '../src/server/index.ts';
import { describeMachine } from './lib/machine.ts';
import { dropSchema, freshSchema, PG_URL } from './lib/pg-admin.ts';
import { seedPostgres, seedSqlite } from './server/seed.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    jobs: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    /** Write the section into docs/BENCHMARKS.md even below 1,000,000 jobs (smaller runs only print it). */
    write: { type: 'boolean', default: false },
  },
  strict: true,
});
const STORE = values.db as 'sqlite' | 'postgres';
const N = Number(values.jobs);
const RUNS = Number(values.runs);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const work = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), 'spool-dashboard-bench-'));
const out = join(work, 'dashboard');
execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'dashboard/vite.config.ts', '--outDir', out, '--logLevel', 'warn'], { cwd: ROOT });
const assets = readdirSync(join(out, 'assets'));
const gz = (ext: string) => assets.filter((f) => f.endsWith(ext)).reduce((s, f) => s + gzipSync(readFileSync(join(out, 'assets', f))).length, 0);
const bundle = { js: gz('.js'), css: gz('.css') };

let queue: Queue;
let schema: string | undefined;
const t0 = performance.now();
if (STORE === 'sqlite') {
  const file = join(work, 'bench.db');
  await (await openQueue(`sqlite:${file}`)).close();
  seedSqlite(file, N);
  queue = await openQueue(`sqlite:${file}`);
} else {
  schema = freshSchema('dashboard');
  await (await openQueue({ url: PG_URL, schema })).close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await seedPostgres(client, schema, N).finally(() => client.end());
  queue = await openQueue({ url: PG_URL, schema, pool: { max: 4 } });
}
process.stderr.write(`${STORE}: seeded ${N.toLocaleString('en')} jobs in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);

const spool = createSpoolServer(queue, { dashboardDir: out });
const listening = await spool.listen({ port: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

const rows = (page: Page) => page.locator('tr[data-job]');
/** Polls from Node (the page's CSP refuses the eval a string waitForFunction needs); 5 ms steps. */
async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error('timed out waiting for the page');
    await new Promise((r) => setTimeout(r, 5));
  }
}
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const figures: Record<string, number[]> = {
  'first load: overview (counts, names, chart)': [],
  'first load: job table (50 newest)': [],
  'filter change: name': [],
  'filter change: name and data (1 job in 5,000 matches)': [],
};
const [overview, table, byName, byData] = Object.values(figures) as number[][];
try {
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto('about:blank'); // the renderer's start-up is the browser's cost, not the page's
    overview!.push(
      await timed(async () => {
        await page.goto(`${listening.url}/`);
        await page.locator('[data-count=completed]').filter({ hasText: /\d/ }).waitFor();
        await page.locator('table.names tbody th').first().waitFor();
        await page.locator('.chart svg').waitFor();
      }),
    );
    const fresh = await context.newPage();
    await fresh.goto('about:blank');
    table!.push(
      await timed(async () => {
        await fresh.goto(`${listening.url}/jobs`);
        await rows(fresh).first().waitFor();
      }),
    );
    byName!.push(
      await timed(async () => {
        await fresh.getByLabel('Name').fill('name2');
        await fresh.getByRole('button', { name: 'Filter' }).click();
        await until(async () => {
          const names = await fresh.locator('tr[data-job] td:nth-child(2)').allTextContents();
          return names.length > 0 && names.every((n) => n === 'name2');
        });
      }),
    );
    byData!.push(
      await timed(async () => {
        await fresh.getByLabel('Data contains (JSON)').fill('{"repo": "org/r42"}');
        await fresh.getByRole('button', { name: 'Filter' }).click();
        await until(async () => {
          const data = await fresh.locator('tr[data-job] .data-cell').allTextContents();
          return (data.length > 0 && data.every((d) => d.includes('org/r42'))) || (await fresh.getByText(/No (jobs )?match/).count()) > 0;
        });
      }),
    );
    await context.close();
  }
} finally {
  await browser.close();
  await listening.close();
  await spool.close();
  await queue.close();
  if (schema) await dropSchema(schema);
  rmSync(work, { recursive: true, force: true });
}

const machine = await describeMachine();
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const lines = [
  `## Dashboard in the browser: ${STORE}, ${N.toLocaleString('en')} jobs`,
  '',
  `\`npm run bench:dashboard -- ${process.argv.slice(2).join(' ')}\` (bench/dashboard.ts). Chromium (headless) on the same machine as the`,
  `server; each run a fresh browser context (no cache); times from navigation or click until the rows are on screen. ${RUNS} runs.`,
  `Machine: ${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadAtStart.toFixed(1)} at start.`,
  '',
  '| what | median ms | max ms |',
  '| --- | ---: | ---: |',
  ...Object.entries(figures).map(([what, xs]) => `| ${what} | ${median(xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`),
  '',
  `Bundle: ${(bundle.js / 1024).toFixed(1)} KB of JavaScript and ${(bundle.css / 1024).toFixed(1)} KB of CSS, gzipped (budget: 100 KB).`,
];
const section = `${lines.join('\n')}\n`;
process.stdout.write(section);
if (N >= 1_000_000 || values.write) {
  // Kept for bench/report.ts (which places it on regeneration), and spliced into docs/BENCHMARKS.md now.
  writeFileSync(new URL('./dashboard-results.md', import.meta.url), section);
  const report = new URL('../docs/BENCHMARKS.md', import.meta.url);
  const md = readFileSync(report, 'utf8');
  const start = md.indexOf('## Dashboard in the browser');
  const end = start < 0 ? -1 : md.indexOf('\n## ', start + 3);
  writeFileSync(report, start >= 0 ? md.slice(0, start) + section + (end >= 0 ? md.slice(end + 1) : '') : md.replace('## Reproduce', `${section}\n## Reproduce`));
  process.stderr.write('written to docs/BENCHMARKS.md and bench/dashboard-results.md\n');
}
