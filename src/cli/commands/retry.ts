import { Command } from 'commander';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson } from '../output.ts';
import { withQueue } from '../runner.ts';
import { UsageError } from '../usage-error.ts';

interface RetryFlags extends DbFlags {
  failed?: boolean;
  name?: string;
  json?: boolean;
}

/**
 * `spool retry ID`: a failed or cancelled job back to pending, attempts reset. `spool retry --failed`: the
 * whole dead-letter queue (of one name with --name), in chunks of at most 1,000 jobs, one statement each.
 */
export function retryCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('retry')
      .description('run a failed or cancelled job again, attempts reset; or every failed job with --failed')
      .argument('[id]', 'the job id')
      .option('--failed', 'retry every failed job (the dead-letter queue) instead of one')
      .option('--name <name>', 'with --failed: only jobs of this name')
      .option('--json', 'print the job (or { retried }) as JSON'),
  );
  return withExamples(command, [
    'spool retry 42',
    'spool retry --failed --name deep-scan   # the dead-letter queue of one job name',
    'spool ls --status failed                # what there is to retry',
  ]).action(async (id: string | undefined, flags: RetryFlags) => {
    if (id !== undefined && flags.failed) throw new UsageError('give a job id or --failed, not both');
    if (id === undefined && !flags.failed) throw new UsageError('give the id of the job to retry, or --failed to retry every failed job');
    if (flags.name !== undefined && !flags.failed) throw new UsageError('--name narrows --failed; to retry one job give only its id');
    await withQueue(ctx, flags, async (queue) => {
      if (flags.failed) {
        const retried = await queue.retryMany({ status: 'failed', ...(flags.name !== undefined ? { name: flags.name } : {}) });
        if (flags.json) return printJson(ctx, { retried });
        ctx.out(`${retried} failed job${retried === 1 ? '' : 's'}${flags.name ? ` named ${flags.name}` : ''} pending again\n`);
        return;
      }
      const job = await queue.retry(id!);
      if (flags.json) return printJson(ctx, job);
      ctx.out(`job ${job.id} (${job.name}) is pending again, ${job.maxAttempts} attempts ahead\n`);
    });
  });
}
