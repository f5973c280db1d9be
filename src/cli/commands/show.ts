import { Command } from 'commander';
import type { Job, Queue, WatchEvent } from '../../index.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson, stdoutPalette } from '../output.ts';
import { type Palette, paintStatus } from '../print/color.ts';
import { formatDuration, formatWhen } from '../print/format.ts';
import { renderFields } from '../print/table.ts';
import { signalExitCode, untilInterrupted } from '../interrupt.ts';
import { withQueue } from '../runner.ts';

interface ShowFlags extends DbFlags {
  json?: boolean;
  follow?: boolean;
}

/** A failed attempt as the attempt history (job.errors) records it, when the store keeps one. */
interface AttemptError {
  attempt: number;
  at: string | Date;
  message: string;
  workerId?: string | null;
}

/** `spool show ID`: everything about one job (one statement). */
export function showCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('show')
      .description('show one job: data, progress, result, errors and times')
      .argument('<id>', 'the job id')
      .option('--follow', 'then print its changes as they happen (any process), until it finishes; exit 1 if it fails or is cancelled')
      .option('--json', 'print the job as JSON (with --follow: one JSON event per line)'),
  );
  return withExamples(command, ['spool show 42', 'spool show 42 --json | jq .result', 'spool show 42 --follow            # live progress until it finishes']).action(
    async (id: string, flags: ShowFlags) => {
      await withQueue(ctx, flags, async (queue) => {
        if (flags.follow) return followJob(ctx, queue, id, flags);
        const job = await queue.getJob(id);
        if (!job) throw notFound(id);
        if (flags.json) return printJson(ctx, job);
        ctx.out(renderFields(jobFields(job, Date.now(), stdoutPalette(ctx)), stdoutPalette(ctx)));
      });
    },
  );
}

function notFound(id: string): Error {
  return new Error(`job ${JSON.stringify(id)} does not exist (never added, deleted, or pruned); list jobs with spool ls`);
}

const FINAL = new Set(['completed', 'failed', 'cancelled', 'deleted']);

/**
 * `--follow`: the job now, then a line per change the change feed reports (progress as each worker tick
 * writes it, about once a second), until it finishes. Subscribes before reading, so no change falls between.
 */
async function followJob(ctx: CommandContext, queue: Queue, id: string, flags: ShowFlags): Promise<void> {
  const p = stdoutPalette(ctx);
  let finish!: (type: string) => void;
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const print = (event: WatchEvent) => {
    if (flags.json) ctx.out(`${JSON.stringify(event)}\n`);
    else ctx.out(`${p.dim(new Date().toISOString().slice(11, 23))} ${describeChange(event, p)}\n`);
    if (FINAL.has(event.type)) finish(event.type);
  };
  const unwatch = queue.watch(print, {
    ids: [id],
    onGap: () => void queue.getJob(id).then((job) => job && print({ type: job.status === 'pending' ? 'added' : job.status, job } as WatchEvent)),
  });
  const interrupt = untilInterrupted();
  try {
    const job = await queue.getJob(id);
    if (!job) throw notFound(id);
    if (flags.json) ctx.out(`${JSON.stringify({ type: 'snapshot', job })}\n`);
    else ctx.out(renderFields(jobFields(job, Date.now(), p), p));
    if (FINAL.has(job.status)) finish(job.status);
    const end = await Promise.race([finished, interrupt.signal]);
    if (end === 'SIGINT' || end === 'SIGTERM') ctx.setExitCode(signalExitCode(end));
    else if (end !== 'completed') ctx.setExitCode(1);
  } finally {
    interrupt.stop();
    unwatch();
  }
}

/** One change as a line: what happened, and the part of the job it changed. */
function describeChange(event: WatchEvent, p: Palette): string {
  if (event.type === 'deleted') return `${p.red('deleted')}`;
  const job = event.job;
  switch (event.type) {
    case 'progress':
      return `progress  ${JSON.stringify(job.progress)}`;
    case 'started':
      return `${p.cyan('started')}   attempt ${job.attempts} of ${job.maxAttempts} on ${job.processingBy ?? '?'}`;
    case 'retrying':
      return `${p.yellow('retrying')}  attempt ${job.attempts} failed: ${job.error ?? ''}; next ${formatWhen(job.runAt, Date.now())}`;
    case 'completed':
      return `${p.green('completed')} ${JSON.stringify(job.result)}`;
    case 'failed':
      return `${p.red('failed')}    after ${job.attempts} attempt(s): ${job.error ?? ''}`;
    default:
      return `${paintStatus(p, job.status)} (${event.type})`;
  }
}

/** The label / value lines of a job, the empty ones left out. */
export function jobFields(job: Job, now: number, p: Palette): [string, string][] {
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  const at = (d: Date | null) => (d ? `${d.toISOString()}  (${formatWhen(d, now)})` : undefined);
  const fields: [string, string | undefined][] = [
    ['id', job.id],
    ['name', job.name],
    ['status', paintStatus(p, job.status) + (job.cancelRequested ? p.yellow('  (cancel requested)') : '')],
    ['attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['priority', String(job.priority)],
    ['data', json(job.data)],
    ['progress', job.progress === null ? undefined : json(job.progress)],
    ['result', job.result === null ? undefined : json(job.result)],
    ['error', job.error ?? undefined],
    ['stack', job.errorStack ? p.dim(job.errorStack) : undefined],
    ['created', at(job.createdAt)],
    ['run at', at(job.runAt)],
    ['started', at(job.startedAt)],
    ['finished', at(job.completedAt)],
    ['took', job.startedAt && job.completedAt ? formatDuration(job.completedAt.getTime() - job.startedAt.getTime()) : undefined],
    ['worker', job.processingBy ?? undefined],
    ['lease until', job.status === 'running' ? at(job.leaseUntil) : undefined],
    ['unique key', job.uniqueKey ?? undefined],
    ['timeout', job.timeout === null ? undefined : formatDuration(job.timeout)],
    ['backoff', job.backoff ? JSON.stringify(job.backoff) : undefined],
  ];
  const history = (job as Job & { errors?: AttemptError[] }).errors;
  if (Array.isArray(history) && history.length > 0) {
    fields.push(['attempts failed', history.map((e) => `#${e.attempt} ${new Date(e.at).toISOString()}${e.workerId ? ` on ${e.workerId}` : ''}: ${e.message}`).join('\n')]);
  }
  return fields.filter((f): f is [string, string] => f[1] !== undefined);
}
