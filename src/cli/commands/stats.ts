import { Command } from 'commander';
import { JOB_STATUSES, type JobCounts } from '../../index.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson, stdoutPalette } from '../output.ts';
import { formatCount } from '../print/format.ts';
import { renderTable } from '../print/table.ts';
import { withQueue } from '../runner.ts';

/** `spool stats`: jobs per name and status, and the totals (one statement). */
export function statsCommand(ctx: CommandContext): Command {
  const command = withDbOptions(new Command('stats').description('count jobs per name and status').option('--json', 'print { counts, byName } as JSON'));
  return withExamples(command, ['spool stats', 'spool stats --json | jq .counts.failed']).action(async (flags: DbFlags & { json?: boolean }) => {
    await withQueue(ctx, flags, async (queue) => {
      const byName = await queue.countsByName();
      const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as JobCounts;
      for (const c of Object.values(byName)) for (const s of JOB_STATUSES) counts[s] += c[s];
      if (flags.json) return printJson(ctx, { counts, byName });
      const p = stdoutPalette(ctx);
      const total = (c: JobCounts) => JOB_STATUSES.reduce((sum, s) => sum + c[s], 0);
      if (total(counts) === 0) return ctx.out('no jobs\n');
      const row = (name: string, c: JobCounts) => [name, ...JOB_STATUSES.map((s) => formatCount(c[s])), formatCount(total(c))];
      const rows = Object.keys(byName).sort().map((name) => row(name, byName[name]!));
      if (rows.length > 1) rows.push(row(p.bold('all'), counts));
      ctx.out(renderTable([{ head: 'NAME' }, ...JOB_STATUSES.map((s) => ({ head: s.toUpperCase(), align: 'right' as const })), { head: 'TOTAL', align: 'right' }], rows, p));
    });
  });
}
