import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { CommandContext } from './command-context.ts';
import { addCommand } from './commands/add.ts';
import { benchCommand } from './commands/bench.ts';
import { cancelCommand } from './commands/cancel.ts';
import { doctorCommand } from './commands/doctor.ts';
import { limitsCommand, pauseCommand, resumeCommand } from './commands/flow.ts';
import { lsCommand } from './commands/ls.ts';
import { pruneCommand } from './commands/prune.ts';
import { retryCommand } from './commands/retry.ts';
import { schedulesCommand } from './commands/schedules.ts';
import { rmCommand } from './commands/rm.ts';
import { showCommand } from './commands/show.ts';
import { statsCommand } from './commands/stats.ts';
import { serveCommand } from './commands/serve.ts';
import { workerCommand } from './commands/worker.ts';

/** The package's version: package.json sits two levels up from src/cli/ and from dist/cli/ alike. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The `spool` program with every command registered, one file per command under commands/. Parsing errors
 * throw CommanderError (exitOverride) so main decides the exit status.
 */
export function buildProgram(context: CommandContext): Command {
  const program = new Command('spool')
    .description('Spool: a background job queue for TypeScript (SQLite to start, PostgreSQL to scale)')
    .version(VERSION, '-V, --version', 'print the version of spool')
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText(
      'after',
      `
Every command that opens the queue takes --db URL (default: env SPOOL_DATABASE_URL, then sqlite:./spool.db).
--json prints machine-readable output. Exit status: 0 success, 1 a failed operation, 2 bad usage.

Examples:
  $ spool add deep-scan '{"repo":"acme/api"}'
  $ spool worker --handlers ./jobs.ts --concurrency 10
  $ spool ls --status failed
  $ spool doctor --db postgres://app@db:5432/app
`,
    );
  const commands = [serveCommand, workerCommand, addCommand, lsCommand, showCommand, retryCommand, cancelCommand, rmCommand, statsCommand, pauseCommand, resumeCommand, limitsCommand, pruneCommand, schedulesCommand, doctorCommand, benchCommand];
  for (const make of commands) program.addCommand(make(context));
  // Every command reports parse errors through main (exit 2), and says how to get help.
  for (const command of [program, ...program.commands]) command.exitOverride().showHelpAfterError('(add --help for usage and examples)');
  return program;
}
