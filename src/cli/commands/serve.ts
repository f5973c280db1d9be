import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATABASE_URL, openQueue, type Handlers, type Queue, type Worker } from '../../index.ts';
import { createSpoolServer } from '../../server/index.ts';
import type { CommandContext } from '../command-context.ts';

interface ServeOptions {
  db?: string;
  host: string;
  port: number;
  handlers?: string;
  concurrency: number;
  basePath?: string;
  readOnly?: boolean;
  allowedHost: string[];
  demo?: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`must be a port number from 0 to 65535, got ${value}`);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError(`must be a whole number from 1 to 10000, got ${value}`);
  return n;
}

/**
 * Loads a handlers module: its default export `{ [name]: handler }`. A .ts file needs tsx's loader, which a
 * checkout (and `npx spool` there) already has; from an installed package it is registered on demand.
 */
async function loadHandlers(file: string): Promise<Handlers> {
  const url = pathToFileURL(resolve(file)).href;
  let module: { default?: unknown };
  try {
    module = (await import(url)) as { default?: unknown };
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw new Error(`could not load --handlers ${file}: ${(error as Error).message}`);
    try {
      const { register } = await import('tsx/esm/api');
      register();
    } catch {
      throw new Error(`--handlers ${file} is TypeScript: install tsx (npm i -D tsx), or point --handlers at a .js file`);
    }
    module = (await import(url)) as { default?: unknown };
  }
  const handlers = module.default;
  if (handlers === null || typeof handlers !== 'object' || Object.keys(handlers).length === 0) {
    throw new Error(`--handlers ${file} must have a default export { [jobName]: async (job, ctx) => result }`);
  }
  return handlers as Handlers;
}

/**
 * `spool serve`: the HTTP API, live events, metrics and dashboard on their own port (127.0.0.1:7700 by default),
 * and with --handlers, workers in the same process. Runs until SIGINT or SIGTERM, then stops gracefully.
 */
export function serveCommand(ctx: CommandContext): Command {
  return new Command('serve')
    .description('serve the API, live events and dashboard (and, with --handlers, run workers in the same process)')
    .option('--db <url>', `database URL (default: SPOOL_DATABASE_URL, then ${DEFAULT_DATABASE_URL})`)
    .option('--host <host>', 'address to listen on; anything but loopback needs SPOOL_TOKEN', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', port, 7700)
    .option('--handlers <file>', 'module whose default export is { [name]: handler }: run workers for those names here')
    .option('--concurrency <n>', 'jobs run at once by the workers of --handlers', positiveInt, 10)
    .option('--base-path <path>', 'the path the browser sees the server under, behind a proxy (e.g. /jobs)')
    .option('--read-only', 'refuse every write (403)')
    .option('--allowed-host <host>', 'a Host header the server answers to besides loopback and --host (repeatable)', (v: string, all: string[]) => [...all, v], [])
    // The dashboard's demo data (issue #11) plugs in here: seed jobs and run demo handlers before listening.
    .addOption(new Option('--demo', 'fill a throwaway queue with demo jobs (comes with the dashboard)').hideHelp())
    .action(async (o: ServeOptions) => {
      if (o.demo) throw new Error('--demo is not available in this version yet');
      const url = o.db ?? process.env.SPOOL_DATABASE_URL ?? DEFAULT_DATABASE_URL;
      const handlers = o.handlers ? await loadHandlers(o.handlers) : undefined;
      const queue: Queue = await openQueue({ url });
      let worker: Worker | undefined;
      try {
        const spool = createSpoolServer(queue, {
          ...(o.basePath !== undefined ? { basePath: o.basePath } : {}),
          ...(o.readOnly ? { readOnly: true } : {}),
          ...(o.allowedHost.length > 0 ? { allowedHosts: o.allowedHost } : {}),
        });
        const listening = await spool.listen({ host: o.host, port: o.port });
        if (handlers) {
          worker = queue.worker(handlers, { concurrency: o.concurrency });
          await worker.start();
        }
        ctx.out(`spool serving ${queue.store.kind} at ${listening.url}/${handlers ? ` with workers for ${Object.keys(handlers).join(', ')}` : ''}\n`);
        await new Promise<void>((done) => {
          process.once('SIGINT', done);
          process.once('SIGTERM', done);
        });
        ctx.out('spool: stopping\n');
        await spool.close();
        await worker?.stop();
      } finally {
        await queue.close();
      }
    });
}
