/**
 * Turns one results JSON into docs/BENCHMARKS.md and docs/benchmarks.svg. Every number in them comes from
 * the JSON: nothing here is a measured figure. Regenerate from saved numbers with
 * `tsx bench/report.ts bench/results/<file>.json`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchResults, Figure } from './harness.ts';
import { renderSvg } from './report-svg.ts';
import { WORKLOADS } from './workloads.ts';

const SPOOL = ['spool-sqlite', 'spool-postgres'];

/** 12,345 · 123 · 12.3 · 1.23 · 0.123 */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  const a = Math.abs(n);
  if (a >= 100) return Math.round(n).toLocaleString('en-US');
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

function cell(f: Figure | undefined): string {
  if (!f) return '—';
  const spread = f.runs.length > 1 ? ` (${fmt(f.min)}–${fmt(f.max)})` : '';
  const capped = f.capped > 0 ? ` ⏱${f.capped}` : '';
  return `${fmt(f.median)}${spread}${capped}`;
}

class Figures {
  constructor(readonly all: Figure[]) {}
  get(system: string, variant: string, workload: string, kase: string, metric: string): Figure | undefined {
    return this.all.find((f) => f.system === system && f.variant === variant && f.workload === workload && f.case === kase && f.metric === metric);
  }
  /** The best median of a system over its variants (its fastest settings), for higher-is-better metrics. */
  best(system: string, workload: string, kase: string, metric: string): Figure | undefined {
    return this.all
      .filter((f) => f.system === system && f.workload === workload && f.case === kase && f.metric === metric)
      .sort((a, b) => b.median - a.median)[0];
  }
  rows(workload: string): { system: string; label: string; variant: string }[] {
    const seen = new Map<string, { system: string; label: string; variant: string }>();
    for (const f of this.all) if (f.workload === workload) seen.set(`${f.system}/${f.variant}`, { system: f.system, label: f.label, variant: f.variant });
    return [...seen.values()];
  }
  cases(workload: string): { kase: string; metric: string; unit: string }[] {
    const seen = new Map<string, { kase: string; metric: string; unit: string }>();
    for (const f of this.all) if (f.workload === workload) seen.set(`${f.case}/${f.metric}`, { kase: f.case, metric: f.metric, unit: f.unit });
    return [...seen.values()];
  }
}

function workloadTable(F: Figures, workload: string): string[] {
  const rows = F.rows(workload);
  if (rows.length === 0) return ['Not run.', ''];
  const cols = F.cases(workload);
  const head = cols.map((c) =>
    c.metric === 'throughput' || c.metric === 'latency'
      ? `${c.kase} (${c.unit})`
      : `${c.metric}${c.kase === 'list' || c.kase === 'deep-scan' ? '' : ` ${c.kase}`}${c.unit === 'ms' ? ' (ms)' : ''}`,
  );
  const out = [`| system | settings | ${head.join(' | ')} |`, `| --- | --- | ${head.map(() => '---:').join(' | ')} |`];
  for (const r of rows) {
    out.push(`| ${r.label} | ${r.variant} | ${cols.map((c) => cell(F.get(r.system, r.variant, workload, c.kase, c.metric))).join(' | ')} |`);
  }
  return [...out, ''];
}

/** Spool ÷ each peer, same run, same workload and case: > 1 means Spool is faster. */
function ratioTable(F: Figures, workload: string, lowerIsBetter = false): string[] {
  const cols = F.cases(workload).filter((c) => c.metric === 'throughput' || c.kase === 'p50');
  const spools = SPOOL.filter((s) => F.rows(workload).some((r) => r.system === s));
  const peers = F.rows(workload).filter((r) => !SPOOL.includes(r.system));
  if (spools.length === 0 || peers.length === 0 || cols.length === 0) return [];
  const head = spools.flatMap((s) => cols.map((c) => `${s} ${c.kase}`));
  const out = [`| Spool ÷ peer${lowerIsBetter ? ' (peer latency ÷ Spool latency)' : ''} | ${head.join(' | ')} |`, `| --- | ${head.map(() => '---:').join(' | ')} |`];
  for (const p of peers) {
    const cells = spools.flatMap((s) =>
      cols.map((c) => {
        const a = F.get(s, 'default', workload, c.kase, c.metric);
        const b = F.get(p.system, p.variant, workload, c.kase, c.metric);
        if (!a || !b || a.median === 0 || b.median === 0) return '—';
        return `${fmt(lowerIsBetter ? b.median / a.median : a.median / b.median)}×`;
      }),
    );
    out.push(`| ${p.label} (${p.variant}) | ${cells.join(' | ')} |`);
  }
  return [...out, ''];
}

type Verdict = { target: string; verdict: 'met' | 'missed' | 'not measured'; evidence: string };

function judge(target: string, pairs: [Figure | undefined, Figure | undefined][], test: (a: number, b: number) => boolean, say: (a: number, b: number) => string): Verdict {
  const present = pairs.filter((p): p is [Figure, Figure] => p[0] !== undefined && p[1] !== undefined);
  if (present.length === 0) return { target, verdict: 'not measured', evidence: 'a system it needs did not run' };
  const ok = present.every(([a, b]) => test(a.median, b.median));
  return { target, verdict: ok ? 'met' : 'missed', evidence: present.map(([a, b]) => say(a.median, b.median)).join('; ') };
}

export function targets(F: Figures): Verdict[] {
  const drain = (s: string, v = 'default', c = 'c10') => F.get(s, v, 'W3', c, 'throughput');
  const bestDrain = (s: string) => F.best(s, 'W3', 'c10', 'throughput');
  const tp = (s: string, w: string, c: string, v = 'default') => F.get(s, v, w, c, 'throughput');
  const one = (f: Figure | undefined): [Figure | undefined, Figure | undefined] => [f, f];
  const v: Verdict[] = [];
  const ratio = (a: number, b: number) => `${fmt(a)} vs ${fmt(b)} = ${fmt(a / b)}×`;
  v.push(judge('PostgreSQL drain (c10) ≥ 1.5× graphile-worker at its fastest settings', [[drain('spool-postgres'), bestDrain('graphile-worker')]], (a, b) => a >= 1.5 * b, ratio));
  v.push(judge('PostgreSQL drain (c10) ≥ 80% of the raw-SQL floor', [[drain('spool-postgres'), fastestFloor(F, 'floor-postgres')]], (a, b) => a >= 0.8 * b, (a, b) => `${fmt(a)} vs ${fmt(b)} = ${fmt((100 * a) / b)}%`));
  v.push(judge('SQLite drain (c10) ≥ 5× BullMQ', [[drain('spool-sqlite'), drain('bullmq')]], (a, b) => a >= 5 * b, ratio));
  v.push(judge('SQLite drain (c10) ≥ 60% of the raw-SQL floor', [[drain('spool-sqlite'), drain('floor-sqlite', 'batch100')]], (a, b) => a >= 0.6 * b, (a, b) => `${fmt(a)} vs ${fmt(b)} = ${fmt((100 * a) / b)}%`));
  v.push(judge('Single add: SQLite ≥ 5× BullMQ', [[tp('spool-sqlite', 'W1', 'single'), tp('bullmq', 'W1', 'single')]], (a, b) => a >= 5 * b, ratio));
  v.push(judge('Single add: PostgreSQL ≥ 2× pg-boss', [[tp('spool-postgres', 'W1', 'single'), tp('pg-boss', 'W1', 'single')]], (a, b) => a >= 2 * b, ratio));
  v.push(judge('Bulk add: PostgreSQL ≥ 2× graphile-worker', [[tp('spool-postgres', 'W2', 'bulk'), tp('graphile-worker', 'W2', 'bulk')]], (a, b) => a >= 2 * b, ratio));
  const lat = (s: string, p: string) => F.get(s, 'default', 'W4', p, 'latency');
  v.push(judge('Latency p50 ≤ 1.5 ms on PostgreSQL', [one(lat('spool-postgres', 'p50'))], (a) => a <= 1.5, (a) => `p50 ${fmt(a)} ms`));
  v.push(judge('Latency p99 ≤ 5 ms on PostgreSQL', [one(lat('spool-postgres', 'p99'))], (a) => a <= 5, (a) => `p99 ${fmt(a)} ms`));
  v.push(judge('Latency p50 ≤ 0.5 ms in-process on SQLite', [one(lat('spool-sqlite', 'p50'))], (a) => a <= 0.5, (a) => `p50 ${fmt(a)} ms`));
  const scan = (s: string) => F.get(s, 'default', 'W5', 'deep-scan', 'statements per job');
  v.push(judge('Deep scan ≤ 3 statements per job', [one(scan('spool-sqlite')), one(scan('spool-postgres'))], (a) => a <= 3, (a) => `${fmt(a)} per job`));
  const list = (s: string, m: string) => F.get(s, 'default', 'W6', 'list', m);
  v.push(judge('Listing: 1 statement', [one(list('spool-sqlite', 'statements')), one(list('spool-postgres', 'statements'))], (a) => a === 1, (a) => `${fmt(a)} statement(s)`));
  const pgPeerList = ['pg-boss', 'graphile-worker'].map((s) => list(s, 'time')).filter((f): f is Figure => f !== undefined).sort((a, b) => a.median - b.median)[0];
  v.push(judge('Listing no slower than the PostgreSQL peers', [[list('spool-postgres', 'time'), pgPeerList], [list('spool-sqlite', 'time'), pgPeerList]], (a, b) => a <= b, (a, b) => `${fmt(a)} ms vs ${fmt(b)} ms`));
  const w7pairs: [Figure | undefined, Figure | undefined][] = SPOOL.flatMap((s) => ['c10', 'c50'].map((c): [Figure | undefined, Figure | undefined] => [F.get(s, 'default', 'W7', c, 'throughput'), F.get(s, 'default', 'W3', c, 'throughput')]));
  v.push(judge('W7 within 10% of W3 (big table of finished jobs does not slow claims)', w7pairs, (a, b) => a >= 0.9 * b, (a, b) => `${fmt(a)} vs ${fmt(b)} = ${fmt((100 * a) / b)}%`));
  // Issue 8: a feature's cost as a ratio to plain W3, target ≤ 10%.
  const w3fPairs: [Figure | undefined, Figure | undefined][] = SPOOL.flatMap((s) => ['c10', 'c50'].map((c): [Figure | undefined, Figure | undefined] => [F.get(s, 'default', 'W3F', c, 'throughput'), F.get(s, 'default', 'W3', c, 'throughput')]));
  v.push(judge('W3F within 10% of W3 (a flow of 10,000 children drains as fast as plain jobs)', w3fPairs, (a, b) => a >= 0.9 * b, (a, b) => `${fmt(a)} vs ${fmt(b)} = ${fmt((100 * a) / b)}%`));
  return v;
}

const PG_PEERS = ['graphile-worker', 'pg-boss', 'bullmq-postgres'];

/** The fastest W3 figure of a floor over all its variants (batch sizes, overlaps) and cases: the floor. */
function fastestFloor(F: Figures, floor: string): Figure | undefined {
  return F.all.filter((f) => f.system === floor && f.workload === 'W3' && f.metric === 'throughput').sort((a, b) => b.median - a.median)[0];
}

/** The fastest of `systems` (each at its fastest settings) in one workload and case. */
function fastestOf(F: Figures, systems: string[], workload: string, kase: string): Figure | undefined {
  return systems.map((s) => F.best(s, workload, kase, 'throughput')).filter((f): f is Figure => f !== undefined).sort((a, b) => b.median - a.median)[0];
}

/** The targets of issue 9 (PostgreSQL ahead of every peer, with history kept; W8; W7 ≈ W3 on both stores). */
export function targets9(F: Figures): Verdict[] {
  const v: Verdict[] = [];
  const drain = (s: string, c: string, w = 'W3') => F.get(s, 'default', w, c, 'throughput');
  const ratio = (a: number, b: number) => `${fmt(a)} vs ${fmt(b)} = ${fmt(a / b)}×`;
  const share = (a: number, b: number) => `${fmt(a)} vs ${fmt(b)} = ${fmt((100 * a) / b)}%`;
  const cases = ['c10', 'c50'];
  v.push(judge('PostgreSQL drain ≥ 1.5× the fastest PostgreSQL peer at its fastest settings (c10, c50)',
    cases.map((c) => [drain('spool-postgres', c), fastestOf(F, PG_PEERS, 'W3', c)]), (a, b) => a >= 1.5 * b, ratio));
  v.push(judge('PostgreSQL drain ≥ 85% of the fastest history-keeping floor (c10, c50)',
    cases.map((c) => [drain('spool-postgres', c), fastestFloor(F, 'floor-postgres')]), (a, b) => a >= 0.85 * b, share));
  const w8 = (s: string) => F.get(s, 'default', 'W8', 'producers', 'throughput');
  v.push(judge('W8 (64 producers) ≥ 1.5× BullMQ on Redis, both stores',
    SPOOL.map((s) => [w8(s), w8('bullmq')]), (a, b) => a >= 1.5 * b, ratio));
  v.push(judge('W8 (64 producers) ≥ 3× pg-boss and graphile-worker, both stores',
    SPOOL.flatMap((s) => ['pg-boss', 'graphile-worker'].map((p): [Figure | undefined, Figure | undefined] => [w8(s), w8(p)])), (a, b) => a >= 3 * b, ratio));
  v.push(judge('Bulk add on PostgreSQL ≥ 1.2× the fastest PostgreSQL peer',
    [[F.get('spool-postgres', 'default', 'W2', 'bulk', 'throughput'), fastestOf(F, PG_PEERS, 'W2', 'bulk')]], (a, b) => a >= 1.2 * b, ratio));
  v.push(judge('W7 within 5% of W3 (c10, c50), both stores',
    SPOOL.flatMap((s) => cases.map((c): [Figure | undefined, Figure | undefined] => [drain(s, c, 'W7'), drain(s, c)])), (a, b) => a >= 0.95 * b, share));
  const lat = (s: string, p: string) => F.get(s, 'default', 'W4', p, 'latency');
  v.push(judge('PostgreSQL latency p50 ≤ BullMQ on Redis', [[lat('spool-postgres', 'p50'), lat('bullmq', 'p50')]], (a, b) => a <= b, (a, b) => `${fmt(a)} ms vs ${fmt(b)} ms`));
  v.push(judge('PostgreSQL latency p99 ≤ 3 ms', [[lat('spool-postgres', 'p99'), lat('spool-postgres', 'p99')]], (a) => a <= 3, (a) => `p99 ${fmt(a)} ms`));
  return v;
}

/** Spool's drain as a share of the fastest floor of its store, per case. */
function floorTable(F: Figures): string[] {
  const rows: string[] = [];
  for (const [spool, floor] of [['spool-sqlite', 'floor-sqlite'], ['spool-postgres', 'floor-postgres']] as const) {
    const f = fastestFloor(F, floor);
    if (!f) continue;
    const cells = ['c10', 'c50'].map((c) => {
      const a = F.get(spool, 'default', 'W3', c, 'throughput');
      return a ? `${fmt((100 * a.median) / f.median)}%` : '—';
    });
    rows.push(`| ${spool} | ${floor} ${f.variant} (${fmt(f.median)} jobs/s) | ${cells.join(' | ')} |`);
  }
  if (rows.length === 0) return [];
  return ['Spool as a share of the fastest floor of its store (the floor\'s best variant and case):', '', '| Spool | fastest floor | c10 | c50 |', '| --- | --- | ---: | ---: |', ...rows, ''];
}

function verdictTable(list: Verdict[]): string[] {
  return ['| target | verdict | evidence |', '| --- | --- | --- |',
    ...list.map((t) => `| ${t.target} | ${t.verdict === 'met' ? '✅ met' : t.verdict === 'missed' ? '❌ missed' : '— not measured'} | ${t.evidence} |`), ''];
}

export function renderMarkdown(r: BenchResults): string {
  const F = new Figures(r.figures);
  const m = r.machine;
  const s = r.sizes;
  const L: string[] = [];
  L.push('# Benchmarks', '');
  L.push('<!-- Generated by bench/report.ts from bench/results/*.json; do not edit by hand. -->', '');
  if (r.quick) {
    L.push(
      '> **QUICK SMOKE RUN — not the benchmark.** Small sizes, one run each, on a shared machine, to check that every',
      '> adapter and workload works end to end. The figures below say nothing about speed; a full run replaces this file.',
      '',
    );
  }
  L.push(`Run ${r.startedAt} → ${r.finishedAt} with \`${r.command}\`: ${r.runs} run(s) per figure, each on a fresh queue; cells are the median (min–max); ⏱n marks n runs that hit the ${s.drainTimeoutMs / 1000} s drain limit (their rate is jobs completed per second until then).`, '');
  L.push('## Machine', '');
  L.push('| | |', '| --- | --- |');
  L.push(`| CPU | ${m.cpuModel}, ${m.cores} cores |`, `| RAM | ${m.ramGiB} GiB |`, `| Node | ${m.node} |`, `| PostgreSQL | ${m.postgres} |`, `| Redis | ${m.redis} |`, `| SQLite | ${m.sqlite} (better-sqlite3 ${m.packages['better-sqlite3']}) |`, `| load average at start | ${m.loadAtStart} |`);
  L.push(`| peers | BullMQ ${m.packages.bullmq} (ioredis ${m.packages.ioredis}; its PostgreSQL backend through pg), pg-boss ${m.packages['pg-boss']}, graphile-worker ${m.packages['graphile-worker']}, pg ${m.packages.pg} |`, '');
  L.push(
    '**Durability is not the same across stores.** Redis here runs with `--save "" --appendonly no`: it keeps nothing on disk, and a crash',
    'loses every job. PostgreSQL (`synchronous_commit = on`) and SQLite (WAL, `synchronous = FULL`, Spool\'s default) commit durably: a job',
    'is on disk when add() returns and when its completion is written. No figure here comes from weakening that (no unlogged tables, no',
    '`synchronous_commit = off`, no `synchronous = NORMAL`), and Spool runs with its leases and at-least-once delivery as shipped.',
    '',
  );
  L.push('## Workloads', '');
  L.push(
    `- **W1** add ${s.singleAdds.toLocaleString('en-US')} jobs one at a time, each awaited · **W2** bulk add ${s.bulkAdds.toLocaleString('en-US')} in batches of ${s.bulkBatch.toLocaleString('en-US')}`,
    `- **W3** drain ${s.drainJobs.toLocaleString('en-US')} no-op jobs at concurrency ${s.concurrencies.join(' and ')}; the clock runs from starting the worker until the store shows all completed`,
    `- **W4** enqueue → handler-start latency, ${s.latencyJobs} jobs ${s.latencyGapMs} ms apart to an idle worker (concurrency 10), producer and worker in one process`,
    `- **W5** deep scan: ${s.deepScanJobs} jobs × 11 experts × 4 progress calls (one every ${s.deepScanStepMs} ms, so a job runs ≈ ${((44 * s.deepScanStepMs) / 1000).toFixed(1)} s), at concurrency ${s.deepScanJobs}; everything the system sends from the first add to all completed, per job`,
    `- **W6** the first ${s.listLimit} jobs of one name among ${s.listAmong.toLocaleString('en-US')} (${s.listNames} names): median of 10 calls after a warm-up, and what one call sends`,
    `- **W7** W3 again on a table that already holds ${s.finishedRows.toLocaleString('en-US')} finished jobs, put there with one INSERT … SELECT (generate_series / recursive CTE; Redis: a Lua loop), then ANALYZE on PostgreSQL, as autovacuum would soon do (W3's fresh tables are not analysed; the pg-boss and graphile-worker stop-clock queries scan their table, so their W7 clocks carry one such scan)`,
    `- **W8** ${s.concurrentAdds.toLocaleString('en-US')} jobs added by ${s.producers} concurrent producers in one process, each awaiting its own add() before the next (an HTTP app enqueuing per request)`,
    '',
  );
  L.push('## Systems and settings', '');
  L.push('| system | settings | what it uses |', '| --- | --- | --- |');
  for (const sys of r.systems) for (const v of sys.variants) L.push(`| ${sys.label} | **${v.id}**: ${v.settings} | ${sys.notes} |`);
  L.push('');
  L.push('How statements are counted:', '');
  for (const sys of r.systems) L.push(`- ${sys.label}: ${sys.counting}`);
  L.push('');
  if (r.skipped.length > 0) {
    L.push('**Skipped:**', '');
    for (const k of r.skipped) L.push(`- ${k.system}: ${k.reason}`);
    L.push('');
  }
  for (const w of WORKLOADS) {
    L.push(`## ${w.id} — ${w.title}`, '');
    L.push(...workloadTable(F, w.id));
    if (['W1', 'W2', 'W3', 'W7', 'W8'].includes(w.id)) L.push(...ratioTable(F, w.id));
    if (w.id === 'W4') L.push(...ratioTable(F, w.id, true));
    if (w.id === 'W3') L.push(...floorTable(F), '![Drain throughput](benchmarks.svg)', '');
  }
  L.push('## W7 ÷ W3 (same system, same settings)', '');
  L.push('| system | settings | c10 | c50 |', '| --- | --- | ---: | ---: |');
  for (const row of F.rows('W7')) {
    const q = (c: string) => {
      const a = F.get(row.system, row.variant, 'W7', c, 'throughput');
      const b = F.get(row.system, row.variant, 'W3', c, 'throughput');
      return a && b ? `${fmt((100 * a.median) / b.median)}%` : '—';
    };
    L.push(`| ${row.label} | ${row.variant} | ${q('c10')} | ${q('c50')} |`);
  }
  L.push('');
  L.push(...featureCostTable(F));
  L.push('## Targets of issue 4', '');
  L.push('Spool at its defaults, against figures of the same run.', '');
  L.push(...verdictTable(targets(F)));
  L.push('## Targets of issue 9', '');
  L.push('PostgreSQL peers at their fastest settings; the floor at its fastest batch size and overlap; same run.', '');
  L.push(...verdictTable(targets9(F)));
  if (r.quick) L.push('At quick sizes these verdicts are not meaningful: a full run decides them.', '');
  // What limits a missed target is written by people after profiling, in bench/analysis.md, and kept
  // across regenerations; the generator only places it.
  const analysis = new URL('./analysis.md', import.meta.url);
  if (existsSync(analysis)) L.push('## What limits it', '', readFileSync(analysis, 'utf8').trim(), '');
  else L.push('_Where a target is missed, write what limits it (profile, EXPLAIN) in bench/analysis.md; the next report includes it here._', '');
  // The server's figures come from their own run (npm run bench:server), kept in bench/server/results.md.
  const server = new URL('./server/results.md', import.meta.url);
  if (existsSync(server)) L.push(readFileSync(server, 'utf8').trim(), '');
  // The dashboard's, likewise (npm run bench:dashboard), in bench/dashboard-results.md.
  const dashboard = new URL('./dashboard-results.md', import.meta.url);
  if (existsSync(dashboard)) L.push(readFileSync(dashboard, 'utf8').trim(), '');
  if (r.errors.length > 0) {
    L.push('## Failed runs', '');
    for (const e of r.errors) L.push(`- ${e.system}/${e.variant} ${e.workload} ${e.case} run ${e.run}: ${e.message.split('\n')[0]}`);
    L.push('');
  }
  L.push('## Reproduce', '');
  L.push(
    '```sh',
    'redis-cli -h 127.0.0.1 ping || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
    'pg_isready -h 127.0.0.1 -p 5432        # PostgreSQL, trust auth, database test (BENCH_PG_URL to change)',
    'npm run bench                          # everything, 3 runs; --quick for a smoke test',
    'npm run bench -- --only spool-sqlite,bullmq --workloads W3 --runs 5',
    'npx spool bench --db sqlite:./x.db     # Spool alone against any database',
    '```',
    '',
  );
  return `${L.join('\n')}\n`;
}

/**
 * Writes the report: docs/BENCHMARKS.md and docs/benchmarks.svg, or the same two files in `dir` (a quick
 * run's report goes to the untracked .tmp/bench/, so a smoke test never changes a file git tracks).
 */
export function writeReport(r: BenchResults, dir?: URL): string[] {
  const md = dir ? new URL('BENCHMARKS.md', dir) : new URL('../docs/BENCHMARKS.md', import.meta.url);
  const svg = dir ? new URL('benchmarks.svg', dir) : new URL('../docs/benchmarks.svg', import.meta.url);
  writeFileSync(md, renderMarkdown(r));
  writeFileSync(svg, renderSvg(r));
  return [fileURLToPath(md), fileURLToPath(svg)];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/report.ts bench/results/<file>.json\n');
    process.exit(2);
  }
  const written = writeReport(JSON.parse(readFileSync(file, 'utf8')) as BenchResults);
  process.stderr.write(`report: ${written.join(', ')}\n`);
}

/**
 * The cost of flow control (issue 8): W3L (a global limit) and W3K (per-key limits over 100 keys) against plain
 * W3, same system and settings, as throughput ratios and statements per job. Target: within 10% of W3.
 */
function featureCostTable(F: Figures): string[] {
  const rows = F.rows('W3L').concat(F.rows('W3K').filter((r) => !F.rows('W3L').some((l) => l.system === r.system && l.variant === r.variant)));
  if (rows.length === 0) return [];
  const L = ['## Flow control ÷ W3 (same system, same settings; target ≥ 90%)', ''];
  L.push('| system | settings | W3L c10 | W3L c50 | W3K c10 | W3K c50 | statements per job, W3 / W3L / W3K (c10) |', '| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const row of rows) {
    const q = (w: string, c: string) => {
      const a = F.get(row.system, row.variant, w, c, 'throughput');
      const b = F.get(row.system, row.variant, 'W3', c, 'throughput');
      return a && b ? `${fmt((100 * a.median) / b.median)}%` : '—';
    };
    const spj = (w: string) => {
      const f = F.get(row.system, row.variant, w, 'c10', 'statements per job');
      return f ? f.median.toFixed(3) : '—';
    };
    L.push(`| ${row.label} | ${row.variant} | ${q('W3L', 'c10')} | ${q('W3L', 'c50')} | ${q('W3K', 'c10')} | ${q('W3K', 'c50')} | ${spj('W3')} / ${spj('W3L')} / ${spj('W3K')} |`);
  }
  L.push('');
  return L;
}
