/**
 * Spool's part of the benchmark alone, against any database: what `spool bench` runs. Each workload gets a
 * fresh queue: for sqlite:<path> a fresh file in the same directory, for postgres:// a fresh schema; both
 * are removed after. Peers and floors are not run; the table goes to stdout, nothing is written to docs/.
 */
import { dirname, resolve } from 'node:path';
import type { Adapter } from './adapters/adapter.ts';
import { makeSpoolPostgres } from './adapters/spool-postgres.ts';
import { makeSpoolSqlite } from './adapters/spool-sqlite.ts';
import { type BenchResults, runBenchmark } from './harness.ts';
import { fmt } from './report.ts';
import { FULL, QUICK, WORKLOADS } from './workloads.ts';

export interface SpoolBenchOptions {
  /** sqlite:<path> or postgres://…; the queue URL resolution order applies before this is called. */
  url: string;
  workloads?: string[];
  runs?: number;
  quick?: boolean;
}

/** The adapter for a Spool URL: fresh SQLite files beside the path, or fresh schemas in the database. */
export function spoolAdapterFor(url: string): Adapter {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === ':memory:') throw new Error('spool bench needs a file (durable commits are what it measures); use sqlite:./bench.db');
    return makeSpoolSqlite(dirname(resolve(path.replace(/^\/\/(?=\/)/, ''))));
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return makeSpoolPostgres(url);
  throw new Error(`spool bench: ${JSON.stringify(url)} is not a Spool database URL; use sqlite:./spool.db or postgres://user@host:port/db`);
}

export async function runSpoolBench(options: SpoolBenchOptions): Promise<BenchResults> {
  const workloads = options.workloads?.map((w) => w.toUpperCase()) ?? WORKLOADS.map((w) => w.id);
  for (const w of workloads) {
    if (!WORKLOADS.some((x) => x.id === w)) throw new Error(`unknown workload ${JSON.stringify(w)}; use ${WORKLOADS.map((x) => x.id).join(', ')}`);
  }
  const adapter = spoolAdapterFor(options.url);
  const quick = options.quick ?? false;
  return runBenchmark({
    adapters: [adapter],
    workloads,
    runs: options.runs ?? (quick ? 1 : 3),
    sizes: quick ? QUICK : FULL,
    quick,
    command: `spool bench --db ${options.url.replace(/\/\/[^@/]*@/, '//…@')}`,
  });
}

/** The results as a plain table for a terminal. */
export function formatSummary(r: BenchResults): string {
  const rows = r.figures.map((f) => [f.workload, f.case, f.metric, `${fmt(f.median)}${f.runs.length > 1 ? ` (${fmt(f.min)}–${fmt(f.max)})` : ''}${f.capped ? ' capped' : ''}`, f.unit]);
  const head = ['workload', 'case', 'metric', 'median (min–max)', 'unit'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  for (const s of r.skipped) out.push(`skipped ${s.system}: ${s.reason}`);
  for (const e of r.errors) out.push(`failed ${e.workload} ${e.case} run ${e.run}: ${e.message.split('\n')[0]}`);
  return `${out.join('\n')}\n`;
}
