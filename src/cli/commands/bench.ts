import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DATABASE_URL } from '../../index.ts';
import { resolveConfig } from '../config.ts';
import type { CommandContext } from '../command-context.ts';
import { withExamples } from '../db-options.ts';

/** What bench/spool-bench.ts exports (loaded at run time: the benchmark lives in bench/, not in the package). */
interface SpoolBenchModule {
  runSpoolBench(o: { url: string; workloads?: string[]; runs?: number; quick?: boolean }): Promise<{ errors: unknown[] }>;
  formatSummary(results: unknown): string;
}

const NEEDS_CHECKOUT =
  'spool bench runs from a checkout of the Spool repository (it needs bench/ and the dev dependencies, which the npm package leaves out): clone it, npm install, then npx spool bench';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a whole number ≥ 1, got ${value}`);
  return n;
}

/**
 * Loads the benchmark from the repository's bench/ folder. From src/ through tsx this is a plain import;
 * from the built dist under plain Node a .ts file needs tsx's loader, registered on demand.
 */
async function loadBench(): Promise<SpoolBenchModule> {
  const file = new URL('../../../bench/spool-bench.ts', import.meta.url);
  // An installed package ships no bench/ (nor the peers it measures against): say so in one line.
  if (!existsSync(file)) throw new Error(NEEDS_CHECKOUT);
  const url = file.href;
  try {
    return (await import(url)) as SpoolBenchModule;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    try {
      const { register } = await import('tsx/esm/api');
      register();
    } catch {
      throw new Error(NEEDS_CHECKOUT);
    }
    return (await import(url)) as SpoolBenchModule;
  }
}

/** `spool bench [--db URL] [--workload W]`: Spool's part of the benchmark alone, against any database. */
export function benchCommand(ctx: CommandContext): Command {
  const command = new Command('bench')
    .description("run Spool's part of the benchmark (docs/BENCHMARKS.md) against a database: fresh files or schemas, removed after")
    .option('--db <url>', `database URL (default: SPOOL_DATABASE_URL, then ${DEFAULT_DATABASE_URL})`)
    .option('--workload <ids>', 'workloads to run, comma-separated: W1,W2,W3,W4,W5,W6,W7 (default all)')
    .option('--runs <n>', 'runs per figure (default 3, or 1 with --quick)', positiveInt)
    .option('--quick', 'small sizes, for a smoke test')
    .option('--json', 'print the raw results as JSON');
  return withExamples(command, ['spool bench --quick', 'spool bench --db postgres://postgres@127.0.0.1:5432/test --workload W3']).action(async (opts: { db?: string; workload?: string; runs?: number; quick?: boolean; json?: boolean }) => {
      const { url } = resolveConfig({ flags: opts, env: ctx.env });
      const bench = await loadBench();
      const results = await bench.runSpoolBench({
        url,
        workloads: opts.workload?.split(',').map((w) => w.trim()).filter(Boolean),
        runs: opts.runs,
        quick: opts.quick,
      });
      ctx.out(opts.json ? `${JSON.stringify(results, null, 2)}\n` : bench.formatSummary(results));
      if (results.errors.length > 0) ctx.setExitCode(1);
    });
}
