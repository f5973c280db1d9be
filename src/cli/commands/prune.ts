import { Command, InvalidArgumentError } from 'commander';
import type { CommandContext } from '../command-context.ts';
import { duration } from '../arguments.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson } from '../output.ts';
import { formatCount, formatDuration } from '../print/format.ts';
import { withQueue } from '../runner.ts';

type Finished = 'completed' | 'failed' | 'cancelled';
const FINISHED: Finished[] = ['completed', 'failed', 'cancelled'];

function finishedStatuses(value: string, previous: Finished[] | undefined): Finished[] {
  const statuses = value.split(',').map((s) => s.trim());
  for (const s of statuses) {
    if (!(FINISHED as string[]).includes(s)) throw new InvalidArgumentError(`must be finished statuses (${FINISHED.join(', ')}), comma-separated; got ${JSON.stringify(s)}`);
  }
  return [...new Set([...(previous ?? []), ...(statuses as Finished[])])];
}

/** `spool prune`: deletes finished jobs older than a cut-off, 10,000 per statement. */
export function pruneCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('prune')
      .description('delete finished jobs older than a cut-off (completed ones by default; the dead-letter queue stays unless named)')
      .option('--older-than <age>', 'finished more than this long ago: 30m, 12h, 7d, 2w', duration(true), 7 * 86_400_000)
      .option('--status <statuses>', `which finished jobs: ${FINISHED.join(', ')} (comma-separated or repeated; default completed)`, finishedStatuses)
      .option('--json', 'print { pruned } as JSON'),
  );
  return withExamples(command, ['spool prune                                   # completed jobs older than 7 days', 'spool prune --older-than 30d --status failed,cancelled']).action(
    async (flags: DbFlags & { olderThan: number; status?: Finished[]; json?: boolean }) => {
      await withQueue(ctx, flags, async (queue) => {
        const statuses = flags.status ?? ['completed'];
        const pruned = await queue.prune({ olderThan: flags.olderThan, statuses });
        if (flags.json) return printJson(ctx, { pruned, statuses, olderThanMs: flags.olderThan });
        ctx.out(`pruned ${formatCount(pruned)} ${statuses.join(' or ')} job${pruned === 1 ? '' : 's'} finished more than ${formatDuration(flags.olderThan)} ago\n`);
      });
    },
  );
}
