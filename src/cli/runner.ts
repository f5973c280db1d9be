import { type Logger, openQueue, type Queue } from '../index.ts';
import type { CommandContext } from './command-context.ts';
import { type CliConfig, type DbFlags, resolveConfig } from './config.ts';

/** Warnings and errors from the library go to stderr, prefixed so they stand apart from results. */
export function cliLogger(ctx: CommandContext): Logger {
  const write = (level: string) => (message: string) => ctx.err(`spool: ${level}: ${message}\n`);
  return { debug: () => {}, info: () => {}, warn: write('warning'), error: write('error') };
}

/**
 * The one place a command opens a queue: resolves --db / SPOOL_DATABASE_URL / the default once, opens (and
 * migrates) the database, runs `fn`, and closes the queue whatever happens.
 */
export async function withQueue<T>(ctx: CommandContext, flags: DbFlags, fn: (queue: Queue, config: CliConfig) => Promise<T>): Promise<T> {
  const config = resolveConfig({ flags, env: ctx.env });
  const queue = await openQueue({ url: config.url, ...(config.schema ? { schema: config.schema } : {}), logger: cliLogger(ctx) });
  try {
    return await fn(queue, config);
  } finally {
    await queue.close();
  }
}
