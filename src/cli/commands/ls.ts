import { Command } from 'commander';
import { JOB_STATUSES, type JobStatus } from '../../index.ts';
import { jobStatus, wholeNumber } from '../arguments.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson, stdoutPalette } from '../output.ts';
import { paintStatus } from '../print/color.ts';
import { formatCount, formatWhen } from '../print/format.ts';
import { jobSummary } from '../print/job-summary.ts';
import { renderTable } from '../print/table.ts';
import { withQueue } from '../runner.ts';

interface LsFlags extends DbFlags {
  status?: JobStatus;
  name?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

/** `spool ls`: a page of jobs, newest first (one statement), and how many match in all (one more). */
export function lsCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('ls')
      .description('list jobs, newest first: one page per call, one query whatever its size')
      .option('--status <status>', `only jobs in this status: ${JOB_STATUSES.join(', ')}`, jobStatus)
      .option('--name <name>', 'only jobs of this name')
      .option('--limit <n>', 'jobs per page, 1-1000', wholeNumber(1), 20)
      .option('--cursor <id>', 'start after this job id (the next page; printed under the table)')
      .option('--json', 'print { jobs, nextCursor } as JSON'),
  );
  return withExamples(command, [
    'spool ls',
    'spool ls --status failed --name deep-scan      # the dead-letter queue of one job name',
    'spool ls --limit 100 --json | jq -r ".jobs[].id"',
  ]).action(async (flags: LsFlags) => {
    await withQueue(ctx, flags, async (queue) => {
      if (flags.limit > 1000) flags.limit = 1000;
      const filter = { status: flags.status, name: flags.name };
      const jobs = await queue.listJobs({ ...filter, limit: flags.limit, cursor: flags.cursor });
      const nextCursor = jobs.length === flags.limit ? jobs.at(-1)!.id : null;
      if (flags.json) return printJson(ctx, { jobs, nextCursor });

      const p = stdoutPalette(ctx);
      const matching = await queue.counts(flags.name ? { name: flags.name } : {});
      const total = flags.status ? matching[flags.status] : Object.values(matching).reduce((a, b) => a + b, 0);
      const what = [flags.status, flags.name ? `named ${flags.name}` : undefined].filter(Boolean).join(' ');
      if (jobs.length === 0) {
        ctx.out(`no ${what ? `${what} ` : ''}jobs${flags.cursor ? ` after ${flags.cursor}` : ''}\n`);
        return;
      }
      const now = Date.now();
      ctx.out(
        renderTable(
          [{ head: 'ID', align: 'right' }, { head: 'NAME' }, { head: 'STATUS' }, { head: 'ATTEMPTS', align: 'right' }, { head: 'CREATED' }, { head: 'INFO' }],
          jobs.map((job) => [job.id, job.name, paintStatus(p, job.status), `${job.attempts}/${job.maxAttempts}`, formatWhen(job.createdAt, now), jobSummary(job, now)]),
          p,
        ),
      );
      const footer = `${formatCount(jobs.length)} of ${formatCount(total)} ${what ? `${what} ` : ''}jobs`;
      ctx.out(p.dim(nextCursor ? `${footer}; next page: spool ls --cursor ${nextCursor}${flags.status ? ` --status ${flags.status}` : ''}${flags.name ? ` --name ${flags.name}` : ''}\n` : `${footer}\n`));
    });
  });
}
