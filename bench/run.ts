/**
 * npm run bench [-- --quick] [--only spool-sqlite,bullmq] [--workloads W1,W3] [--runs N] [--no-report]
 *
 * Runs the systems side by side, one at a time, each workload on a fresh queue, and writes
 * bench/results/<time>.json (raw numbers), docs/BENCHMARKS.md and docs/benchmarks.svg (from that JSON);
 * with --quick all three go to the untracked .tmp/bench/ instead.
 * Never part of `npm test`. Full sizes need a quiet machine: see docs/BENCHMARKS.md for the duration.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ADAPTERS } from './adapters/registry.ts';
import { runBenchmark } from './harness.ts';
import { writeReport } from './report.ts';
import { FULL, QUICK, WORKLOADS } from './workloads.ts';

const USAGE = `usage: npm run bench -- [--quick] [--only ${ADAPTERS.map((a) => a.id).join(',')}] [--workloads ${WORKLOADS.map((w) => w.id).join(',')}] [--runs N] [--no-report]`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    workloads: { type: 'string' },
    runs: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));
const only = list(values.only);
for (const id of only ?? []) if (!ADAPTERS.some((a) => a.id === id)) fail(`unknown system ${JSON.stringify(id)}`);
const workloads = list(values.workloads)?.map((w) => w.toUpperCase()) ?? WORKLOADS.map((w) => w.id);
for (const id of workloads) if (!WORKLOADS.some((w) => w.id === id)) fail(`unknown workload ${JSON.stringify(id)}`);
const runs = values.runs === undefined ? (values.quick ? 1 : 3) : Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) fail(`--runs must be a whole number ≥ 1, got ${values.runs}`);

const results = await runBenchmark({
  adapters: ADAPTERS.filter((a) => !only || only.includes(a.id)),
  workloads,
  runs,
  sizes: values.quick ? QUICK : FULL,
  quick: values.quick,
  command: `npm run bench --${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
});

// A full run's numbers are kept (bench/results/, docs/); a quick run is a smoke test and writes only to the
// untracked .tmp/bench/, so it never changes a file git tracks.
const dir = values.quick ? new URL('../.tmp/bench/', import.meta.url) : new URL('./results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL(`${results.startedAt.replace(/[:.]/g, '-')}${results.quick ? '-quick' : ''}.json`, dir);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`raw numbers: ${file.pathname}\n`);
if (!values['no-report']) {
  const written = writeReport(results, values.quick ? dir : undefined);
  process.stderr.write(`report: ${written.join(', ')}\n`);
}
if (results.errors.length > 0) {
  process.stderr.write(`${results.errors.length} run(s) failed; see "errors" in the JSON\n`);
  process.exitCode = 1;
}
// Every session is closed by now; a peer's stray timer or socket must not keep the run alive for ever.
setTimeout(() => {
  process.stderr.write(`still open after the run: ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
  process.exit();
}, 5_000).unref();
