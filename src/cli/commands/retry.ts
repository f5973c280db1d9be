import { Command } from 'commander';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson } from '../output.ts';
import { withQueue } from '../runner.ts';

/** `spool retry ID`: a failed or cancelled job back to pending, attempts reset. */
export function retryCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('retry').description('run a failed or cancelled job again, attempts reset').argument('<id>', 'the job id').option('--json', 'print the job as JSON'),
  );
  return withExamples(command, ['spool retry 42', 'spool ls --status failed        # the dead-letter queue: what there is to retry']).action(
    async (id: string, flags: DbFlags & { json?: boolean }) => {
      await withQueue(ctx, flags, async (queue) => {
        const job = await queue.retry(id);
        if (flags.json) return printJson(ctx, job);
        ctx.out(`job ${job.id} (${job.name}) is pending again, ${job.maxAttempts} attempts ahead\n`);
      });
    },
  );
}
