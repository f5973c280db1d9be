import { Command } from 'commander';
import { inspectDatabase } from '../../store/inspect-database.ts';
import { wholeNumber } from '../arguments.ts';
import type { CommandContext } from '../command-context.ts';
import { displayUrl, resolveConfig } from '../config.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { type Check, judge } from '../doctor/checks.ts';
import { printJson, stdoutPalette } from '../output.ts';

interface DoctorFlags extends DbFlags {
  processes?: number;
  pool?: number;
  json?: boolean;
}

/**
 * `spool doctor`: checks the connection, the schema version, the indexes and the settings that matter, reading
 * only (it opens no queue, so it migrates nothing). Exit 1 when something needs fixing, to gate a deploy.
 */
export function doctorCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('doctor')
      .description('check the database: connection, schema version, indexes, journal mode / autovacuum, connections, stuck leases; exit 1 if something needs fixing')
      .option('--processes <n>', 'PostgreSQL: check the connection budget for this many Spool processes', wholeNumber(1))
      .option('--pool <n>', 'PostgreSQL: their pool size, openQueue({ pool: { max } }) (default 4)', wholeNumber(1))
      .option('--json', 'print { ok, checks } as JSON'),
  );
  return withExamples(command, [
    'spool doctor',
    'spool doctor --db postgres://app@db:5432/app --processes 12 --pool 4 && deploy',
  ]).action(async (flags: DoctorFlags) => {
    const config = resolveConfig({ flags, env: ctx.env });
    const facts = await inspectDatabase(config.url, { schema: config.schema, now: Date.now() });
    const checks = judge(facts, { processes: flags.processes, pool: flags.pool });
    const ok = checks.every((c) => c.status !== 'fail');
    if (!ok) ctx.setExitCode(1);
    if (flags.json) return printJson(ctx, { ok, url: displayUrl(config.url), checks });
    ctx.out(render(ctx, `${displayUrl(config.url)}${facts.kind === 'postgres' ? ` (schema ${facts.schema})` : ''}`, checks));
  });
}

function render(ctx: CommandContext, target: string, checks: Check[]): string {
  const p = stdoutPalette(ctx);
  const mark = { ok: p.green('ok  '), warn: p.yellow('warn'), fail: p.red('FAIL') };
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = [`spool doctor: ${target}`];
  for (const c of checks) {
    lines.push(`  ${mark[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && c.status !== 'ok') lines.push(...c.fix.split('\n').map((f, i) => `        ${' '.repeat(width)}  ${p.dim(i === 0 ? `fix: ${f}` : `     ${f}`)}`));
  }
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  const verdict =
    fails > 0
      ? p.red(`${fails} problem${fails === 1 ? '' : 's'} to fix`) + (warns > 0 ? `, ${warns} warning${warns === 1 ? '' : 's'}` : '')
      : warns > 0
        ? p.yellow(`nothing to fix; ${warns} warning${warns === 1 ? '' : 's'}`)
        : p.green('everything looks right');
  lines.push(verdict);
  return `${lines.join('\n')}\n`;
}
