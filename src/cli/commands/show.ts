import { Command } from 'commander';
import type { Job } from '../../index.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson, stdoutPalette } from '../output.ts';
import { type Palette, paintStatus } from '../print/color.ts';
import { formatDuration, formatWhen } from '../print/format.ts';
import { renderFields } from '../print/table.ts';
import { withQueue } from '../runner.ts';

interface ShowFlags extends DbFlags {
  json?: boolean;
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
  const command = withDbOptions(new Command('show').description('show one job: data, progress, result, errors and times').argument('<id>', 'the job id').option('--json', 'print the job as JSON'));
  return withExamples(command, ['spool show 42', 'spool show 42 --json | jq .result']).action(async (id: string, flags: ShowFlags) => {
    await withQueue(ctx, flags, async (queue) => {
      const job = await queue.getJob(id);
      if (!job) throw new Error(`job ${JSON.stringify(id)} does not exist (never added, deleted, or pruned); list jobs with spool ls`);
      if (flags.json) return printJson(ctx, job);
      ctx.out(renderFields(jobFields(job, Date.now(), stdoutPalette(ctx)), stdoutPalette(ctx)));
    });
  });
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
