import { Command } from 'commander';
import type { Queue, ScheduleInfo } from '../../index.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson, stdoutPalette } from '../output.ts';
import { formatWhen, shortJson } from '../print/format.ts';
import { renderTable } from '../print/table.ts';
import { withQueue } from '../runner.ts';

type Flags = DbFlags & { json?: boolean };

/**
 * `spool schedules [ls | rm KEY | trigger KEY | pause KEY | resume KEY]`: the schedules in the database, from any
 * process. A key that names no schedule exits 1 (SCHEDULE_NOT_FOUND), like `spool show` of a missing job.
 */
export function schedulesCommand(ctx: CommandContext): Command {
  const command = new Command('schedules').description('list, pause, resume, trigger or remove cron and interval schedules');
  const sub = (name: string, description: string, run: (queue: Queue, key: string, flags: Flags) => Promise<void>) =>
    command.addCommand(
      withDbOptions(new Command(name).description(description).argument('<key>', 'the schedule key').option('--json', 'print the result as JSON')).action(
        async (key: string, flags: Flags) => withQueue(ctx, flags, (queue) => run(queue, key, flags)),
      ),
    );
  const ls = withDbOptions(new Command('ls').description('list schedules with their next and last fire (the default)').option('--json', 'print the schedules as JSON'));
  ls.action(async (flags: Flags) => withQueue(ctx, flags, async (queue) => list(ctx, queue, flags)));
  command.addCommand(ls, { isDefault: true });
  sub('pause', 'stop a schedule firing, in every process (fires while paused are not run later)', async (queue, key, flags) => {
    const s = await queue.pauseSchedule(key);
    if (flags.json) return printJson(ctx, s);
    ctx.out(`schedule ${s.key} is paused\n`);
  });
  sub('resume', 'fire a paused schedule again, from its next time after now', async (queue, key, flags) => {
    const s = await queue.resumeSchedule(key);
    if (flags.json) return printJson(ctx, s);
    ctx.out(`schedule ${s.key} is running; next fire ${s.nextRunAt ? s.nextRunAt.toISOString() : 'never'}\n`);
  });
  sub('trigger', 'add the schedule\'s job now, outside its fire times', async (queue, key, flags) => {
    const id = await queue.triggerSchedule(key);
    if (flags.json) return printJson(ctx, { key, jobId: id });
    ctx.out(`schedule ${key} triggered: job ${id}\n`);
  });
  sub('rm', 'remove a schedule (the jobs it added stay)', async (queue, key, flags) => {
    await queue.unschedule(key);
    if (flags.json) return printJson(ctx, { key, deleted: true });
    ctx.out(`schedule ${key} removed\n`);
  });
  // Parse errors of the subcommands go through main too (exit 2), as the top-level commands' do.
  for (const c of command.commands) c.exitOverride().showHelpAfterError('(add --help for usage and examples)');
  return withExamples(command, [
    'spool schedules                     # the table: key, when, job, next and last fire',
    'spool schedules ls --json',
    'spool schedules trigger nightly     # run it now',
    'spool schedules pause nightly',
  ]);
}

async function list(ctx: CommandContext, queue: Queue, flags: Flags): Promise<void> {
  const schedules = await queue.listSchedules();
  if (flags.json) return printJson(ctx, { schedules });
  if (schedules.length === 0) return ctx.out('no schedules; declare one with queue.schedule(key, { cron } | { every }, name, data)\n');
  const p = stdoutPalette(ctx);
  const now = Date.now();
  const rows = schedules.map((s) => [
    s.key,
    when(s),
    s.name,
    s.paused ? p.dim('paused') : formatWhen(s.nextRunAt, now),
    formatWhen(s.lastRunAt, now),
    s.missed,
    shortJson(s.data, 40),
  ]);
  ctx.out(renderTable([{ head: 'KEY' }, { head: 'WHEN' }, { head: 'JOB' }, { head: 'NEXT' }, { head: 'LAST' }, { head: 'MISSED' }, { head: 'DATA' }], rows, p));
}

/** `0 3 * * * Europe/Berlin` or `every 60s`. */
function when(s: ScheduleInfo): string {
  if (s.cron !== undefined) return `${s.cron} ${s.tz ?? 'UTC'}`;
  const ms = s.every!;
  return ms % 1000 === 0 ? `every ${ms / 1000}s` : `every ${ms}ms`;
}
