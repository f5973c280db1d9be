import { Command, InvalidArgumentError, Option } from 'commander';
import type { Worker } from '../../index.ts';
import { createSpoolServer } from '../../server/index.ts';
import { wholeNumber } from '../arguments.ts';
import type { CommandContext } from '../command-context.ts';
import { displayUrl } from '../config.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { loadHandlers } from '../handlers-file.ts';
import { untilInterrupted } from '../interrupt.ts';
import { withQueue } from '../runner.ts';

interface ServeFlags extends DbFlags {
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
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`must be a port number from 0 to 65535, got ${value}`);
  return n;
}

/**
 * `spool serve`: the HTTP API, live events, metrics and dashboard on their own port (127.0.0.1:7700 by default),
 * and with --handlers, workers in the same process. Runs until SIGINT or SIGTERM, then stops gracefully.
 */
export function serveCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('serve')
      .description('serve the API, live events and dashboard (and, with --handlers, run workers in the same process) until Ctrl-C')
      .option('--host <host>', 'address to listen on; anything but loopback needs SPOOL_TOKEN', '127.0.0.1')
      .option('--port <port>', 'port to listen on (0: any free port)', port, 7700)
      .option('--handlers <file>', ".js or .ts module whose default export is { 'job-name': async (job, ctx) => result }: run workers for those here")
      .option('--concurrency <n>', 'jobs run at once by the workers of --handlers', wholeNumber(1), 10)
      .option('--base-path <path>', 'the path the browser sees the server under, behind a proxy (e.g. /jobs)')
      .option('--read-only', 'refuse every write (403)')
      .option('--allowed-host <host>', 'a Host header to answer besides loopback and --host (repeatable)', (v: string, all: string[]) => [...all, v], [])
      // The dashboard's demo (issue #11) plugs in here: seed a throwaway queue and run demo handlers before listening.
      .addOption(new Option('--demo', 'fill a throwaway queue with demo jobs (comes with the dashboard)').hideHelp()),
  );
  return withExamples(command, [
    'spool serve',
    'spool serve --handlers ./jobs.ts --concurrency 10',
    'SPOOL_TOKEN=$(openssl rand -hex 32) spool serve --host 0.0.0.0 --db postgres://app@db/app',
  ]).action(async (flags: ServeFlags) => {
    if (flags.demo) throw new Error('--demo is not available in this version yet');
    const handlers = flags.handlers ? await loadHandlers(flags.handlers, process.cwd()) : undefined;
    await withQueue(ctx, flags, async (queue, config) => {
      const spool = createSpoolServer(queue, {
        ...(ctx.env.SPOOL_TOKEN ? { token: ctx.env.SPOOL_TOKEN } : {}),
        ...(flags.basePath !== undefined ? { basePath: flags.basePath } : {}),
        ...(flags.readOnly ? { readOnly: true } : {}),
        ...(flags.allowedHost.length > 0 ? { allowedHosts: flags.allowedHost } : {}),
      });
      let worker: Worker | undefined;
      const interrupted = untilInterrupted();
      try {
        const listening = await spool.listen({ host: flags.host, port: flags.port });
        if (handlers) {
          worker = queue.worker(handlers, { concurrency: flags.concurrency });
          await worker.start();
        }
        ctx.out(
          `spool serving ${displayUrl(config.url)} at ${listening.url}/${handlers ? ` with workers for ${Object.keys(handlers).join(', ')}` : ''}; Ctrl-C stops it\n`,
        );
        const signal = await interrupted.signal;
        ctx.out(`spool: ${signal}: stopping\n`);
      } finally {
        interrupted.stop();
        await spool.close();
        await worker?.stop();
      }
    });
  });
}
