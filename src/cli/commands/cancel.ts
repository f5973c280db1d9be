import { Command } from 'commander';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson } from '../output.ts';
import { withQueue } from '../runner.ts';

/** `spool cancel ID`: pending → cancelled; a running job's signal aborts at its worker's next tick. */
export function cancelCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('cancel').description('cancel a job: a pending one at once, a running one when its worker next ticks (about a second)').argument('<id>', 'the job id').option('--json', 'print the job as JSON'),
  );
  return withExamples(command, ['spool cancel 42']).action(async (id: string, flags: DbFlags & { json?: boolean }) => {
    await withQueue(ctx, flags, async (queue) => {
      const job = await queue.cancel(id);
      if (flags.json) return printJson(ctx, job);
      ctx.out(
        job.status === 'cancelled'
          ? `job ${job.id} (${job.name}) cancelled\n`
          : `job ${job.id} (${job.name}) is running: cancel requested; its worker aborts it at its next tick\n`,
      );
    });
  });
}
