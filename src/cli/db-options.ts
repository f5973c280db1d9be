export type { DbFlags } from './config.ts';
import type { Command } from 'commander';
import { DEFAULT_DATABASE_URL } from '../index.ts';

/** Adds --db and --schema to a command that opens a queue. */
export function withDbOptions(command: Command): Command {
  return command
    .option('--db <url>', `database URL: sqlite:./file.db or postgres://user@host:port/db (default: env SPOOL_DATABASE_URL, then ${DEFAULT_DATABASE_URL})`)
    .option('--schema <name>', "PostgreSQL schema holding Spool's tables (default: env SPOOL_SCHEMA, then spool)");
}

/** Adds an "Examples:" section to a command's --help. */
export function withExamples(command: Command, examples: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}
