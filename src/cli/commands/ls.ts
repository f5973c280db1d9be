import { Command } from 'commander';
import { type Job, JOB_STATUSES, type JobStatus, type Queue } from '../../index.ts';
import { jobStatus, parseJsonArgument, wholeNumber } from '../arguments.ts';
import { UsageError } from '../usage-error.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson, stdoutPalette } from '../output.ts';
import { paintStatus } from '../print/color.ts';
import { formatCount, formatWhen } from '../print/format.ts';
import { jobSummary } from '../print/job-summary.ts';
import { renderTable } from '../print/table.ts';
import { untilInterrupted } from '../interrupt.ts';
import { withQueue } from '../runner.ts';

interface LsFlags extends DbFlags {
  status?: JobStatus;
  name?: string;
  data?: Record<string, unknown>;
  limit: number;
  cursor?: string;
  watch?: boolean;
  json?: boolean;
}

/** Fastest redraw of `ls --watch`: one listing query per 250 ms at most, however many changes arrive. */
const REDRAW_MS = 250;

/** `spool ls`: a page of jobs, newest first (one statement), and how many match in all (one more). */
export function lsCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('ls')
      .description('list jobs, newest first: one page per call, one query whatever its size')
      .option('--status <status>', `only jobs in this status: ${JOB_STATUSES.join(', ')}`, jobStatus)
      .option('--name <name>', 'only jobs of this name')
      .option('--data <json>', 'only jobs whose data contains this JSON object, e.g. \'{"repo":"a/b"}\'', dataFilter)
      .option('--limit <n>', 'jobs per page, 1-1000', wholeNumber(1), 20)
      .option('--cursor <id>', 'start after this job id (the next page; printed under the table)')
      .option('--watch', 'keep the listing live: redrawn as jobs change in any process, until Ctrl-C')
      .option('--json', 'print { jobs, nextCursor } as JSON (with --watch: one change event per line)'),
  );
  return withExamples(command, [
    'spool ls',
    'spool ls --status failed --name deep-scan      # the dead-letter queue of one job name',
    'spool ls --limit 100 --json | jq -r ".jobs[].id"',
    'spool ls --name deep-scan --watch               # live progress of the latest scans',
    'spool ls --data \'{"repo":"a/b"}\'                # jobs whose data holds repo a/b',
  ]).action(async (flags: LsFlags) => {
    await withQueue(ctx, flags, async (queue) => {
      if (flags.limit > 1000) flags.limit = 1000;
      if (flags.watch) return watchListing(ctx, queue, flags);
      const { jobs, nextCursor } = await readPage(queue, flags);
      if (flags.json) return printJson(ctx, { jobs, nextCursor });
      ctx.out(await renderListing(ctx, queue, flags, jobs, nextCursor));
    });
  });
}

/**
 * `--watch`: the listing again whenever the change feed reports a change to jobs it may show (progress
 * included, as worker ticks write it), at most every REDRAW_MS; until SIGINT or SIGTERM, then exit 0.
 * On a terminal the screen is redrawn in place; elsewhere each listing follows the last under a time line.
 * With --json, the change events themselves, one per line.
 */
async function watchListing(ctx: CommandContext, queue: Queue, flags: LsFlags): Promise<void> {
  const interrupt = untilInterrupted();
  let dirty = true;
  let wake: (() => void) | undefined;
  const changed = () => {
    dirty = true;
    wake?.();
  };
  const unwatch = queue.watch(
    (event) => {
      if (!flags.json) return changed();
      if (flags.status && event.type !== 'deleted' && event.job.status !== flags.status) return;
      ctx.out(`${JSON.stringify(event)}\n`);
    },
    { ...(flags.name ? { names: [flags.name] } : {}), onGap: changed },
  );
  try {
    if (flags.json) {
      await interrupt.signal;
      return;
    }
    const p = stdoutPalette(ctx);
    let stopped = false;
    void interrupt.signal.then(() => {
      stopped = true;
      wake?.();
    });
    while (!stopped) {
      if (dirty) {
        dirty = false;
        const { jobs } = await readPage(queue, flags);
        const listing = await renderListing(ctx, queue, flags, jobs, null);
        const heading = p.dim(`${new Date().toISOString().slice(11, 19)} spool ls --watch: live until Ctrl-C`);
        ctx.out(ctx.stdoutIsTTY ? `\u001b[H\u001b[2J${heading}\n${listing}` : `${heading}\n${listing}\n`);
        await new Promise((r) => setTimeout(r, REDRAW_MS));
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    interrupt.stop();
    unwatch();
  }
}

/** The table of a page of jobs, and a line saying how many match in all (one counts statement). */
async function renderListing(ctx: CommandContext, queue: Queue, flags: LsFlags, jobs: Job[], nextCursor: string | null): Promise<string> {
  const p = stdoutPalette(ctx);
  const total = await queue.countJobs(filterOf(flags));
  const what = [flags.status, flags.name ? `named ${flags.name}` : undefined].filter(Boolean).join(' ');
  const withData = flags.data ? ` with data ${JSON.stringify(flags.data)}` : '';
  if (jobs.length === 0) return `no ${what ? `${what} ` : ''}jobs${withData}${flags.cursor ? ` after ${flags.cursor}` : ''}\n`;
  const now = Date.now();
  const heads = ['ID', 'NAME', 'STATUS', 'ATTEMPTS', 'CREATED'];
  const cells = jobs.map((job) => [job.id, job.name, job.status, `${job.attempts}/${job.maxAttempts}`, formatWhen(job.createdAt, now)]);
  // On a terminal the INFO column takes what the others leave of its width (at least 20); elsewhere 60.
  const used = heads.reduce((sum, head, i) => sum + Math.max(head.length, ...cells.map((row) => row[i]!.length)) + 2, 0);
  const infoWidth = ctx.columns ? Math.max(20, ctx.columns - used) : 60;
  const table = renderTable(
    [{ head: 'ID', align: 'right' }, { head: 'NAME' }, { head: 'STATUS' }, { head: 'ATTEMPTS', align: 'right' }, { head: 'CREATED' }, { head: 'INFO' }],
    jobs.map((job, i) => [...cells[i]!.slice(0, 2), paintStatus(p, job.status), ...cells[i]!.slice(3), jobSummary(job, now, infoWidth)]),
    p,
  );
  const footer = `${formatCount(jobs.length)} of ${formatCount(total)} ${what ? `${what} ` : ''}jobs${withData}`;
  const data = flags.data ? ` --data '${JSON.stringify(flags.data)}'` : '';
  const next = nextCursor ? `; next page: spool ls --cursor ${nextCursor}${flags.status ? ` --status ${flags.status}` : ''}${flags.name ? ` --name ${flags.name}` : ''}${data}` : '';
  return `${table}${p.dim(`${footer}${next}`)}\n`;
}

/** The filter of the flags, as countJobs() and listPage() take it. */
function filterOf(flags: LsFlags): { status?: JobStatus; name?: string; data?: Record<string, unknown> } {
  return { ...(flags.status ? { status: flags.status } : {}), ...(flags.name !== undefined ? { name: flags.name } : {}), ...(flags.data ? { data: flags.data } : {}) };
}

/** One page, one statement: listPage() bounds a data search and says where the next page starts. */
function readPage(queue: Queue, flags: LsFlags): Promise<{ jobs: Job[]; nextCursor: string | null }> {
  return queue.listPage({ ...filterOf(flags), limit: flags.limit, ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}) });
}

/** `--data`: a JSON object to match the job's data against (containment). */
function dataFilter(text: string): Record<string, unknown> {
  const value = parseJsonArgument(text, '--data');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--data must be a JSON object such as '{"repo":"a/b"}'; got ${text}`);
  return value as Record<string, unknown>;
}
