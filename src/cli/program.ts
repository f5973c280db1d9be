import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { CommandContext } from './command-context.ts';
import { benchCommand } from './commands/bench.ts';
import { serveCommand } from './commands/serve.ts';

/** The package's version: package.json sits two levels up from src/cli/ and from dist/cli/ alike. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The `spool` program with every command registered, one file per command under commands/ (serve, worker,
 * add, ls, … of API.md are added the same way). Parsing errors throw CommanderError (exitOverride) so main
 * decides the exit status, and tests can parse argv without a process.
 */
export function buildProgram(context: CommandContext): Command {
  const program = new Command('spool')
    .description('Spool: a background job queue for TypeScript (SQLite to start, PostgreSQL to scale)')
    .version(VERSION, '-V, --version', 'print the version of spool')
    .exitOverride()
    .showHelpAfterError();
  program.addCommand(serveCommand(context).exitOverride());
  program.addCommand(benchCommand(context).exitOverride());
  return program;
}
