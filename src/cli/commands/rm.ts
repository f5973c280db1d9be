import { Command } from 'commander';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson } from '../output.ts';
import { withQueue } from '../runner.ts';

/** `spool rm ID`: deletes a job wherever it is (a running one is aborted by its worker). */
export function rmCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('rm').description('delete a job in any state (a running one is aborted by its worker)').argument('<id>', 'the job id').option('--json', 'print { id, deleted: true } as JSON'),
  );
  return withExamples(command, ['spool rm 42']).action(async (id: string, flags: DbFlags & { json?: boolean }) => {
    await withQueue(ctx, flags, async (queue) => {
      await queue.delete(id);
      if (flags.json) return printJson(ctx, { id, deleted: true });
      ctx.out(`job ${id} deleted\n`);
    });
  });
}
