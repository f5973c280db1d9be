import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { Worker } from '../../index.ts';
import { createSpoolServer } from '../../server/index.ts';
import { wholeNumber } from '../arguments.ts';
import type { CommandContext } from '../command-context.ts';
import { displayUrl } from '../config.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { loadHandlers } from '../handlers-file.ts';
import { startDemo } from '../demo.ts';
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
      .option('--demo', 'run demo deep scans with built-in handlers (a throwaway SQLite file unless --db or SPOOL_DATABASE_URL is given)'),
  );
  return withExamples(command, [
    'spool serve',
    'spool serve --handlers ./jobs.ts --concurrency 10',
    'spool serve --demo',
    'SPOOL_TOKEN=$(openssl rand -hex 32) spool serve --host 0.0.0.0 --db postgres://app@db/app',
  ]).action(async (given: ServeFlags) => {
    if (given.demo && given.handlers) throw new InvalidArgumentError('--demo runs its own handlers: leave out --handlers');
    // The demo's jobs go to a throwaway file, not the spool.db of the directory it was started in.
    const demoDir = given.demo && !given.db && !ctx.env.SPOOL_DATABASE_URL ? mkdtempSync(join(tmpdir(), 'spool-demo-')) : undefined;
    const flags: ServeFlags = demoDir ? { ...given, db: `sqlite:${join(demoDir, 'demo.db')}` } : given;
    try {
      await serve(ctx, flags);
    } finally {
      if (demoDir) rmSync(demoDir, { recursive: true, force: true });
    }
  });
}

async function serve(ctx: CommandContext, flags: ServeFlags): Promise<void> {
  const handlers = flags.handlers ? await loadHandlers(flags.handlers, process.cwd()) : undefined;
  await withQueue(ctx, flags, async (queue, config) => {
    const spool = createSpoolServer(queue, {
      ...(ctx.env.SPOOL_TOKEN ? { token: ctx.env.SPOOL_TOKEN } : {}),
      ...(flags.basePath !== undefined ? { basePath: flags.basePath } : {}),
      ...(flags.readOnly ? { readOnly: true } : {}),
      ...(flags.allowedHost.length > 0 ? { allowedHosts: flags.allowedHost } : {}),
    });
    let worker: Worker | undefined;
    let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
    const interrupted = untilInterrupted();
    try {
      const listening = await spool.listen({ host: flags.host, port: flags.port });
      if (handlers) {
        worker = queue.worker(handlers, { concurrency: flags.concurrency });
        await worker.start();
      }
      if (flags.demo) demo = await startDemo(queue);
      const running = handlers ? ` with workers for ${Object.keys(handlers).join(', ')}` : demo ? ' with demo deep scans' : '';
      ctx.out(`spool serving ${displayUrl(config.url)} at ${listening.url}/${running}; Ctrl-C stops it\n`);
      const signal = await interrupted.signal;
      ctx.out(`spool: ${signal}: stopping\n`);
    } finally {
      interrupted.stop();
      await spool.close();
      await worker?.stop();
      await demo?.stop();
    }
  });
}
