import { Command } from 'commander';
import type { Job, QueueEvent } from '../../index.ts';
import { duration, wholeNumber } from '../arguments.ts';
import type { CommandContext } from '../command-context.ts';
import { displayUrl } from '../config.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { loadHandlers } from '../handlers-file.ts';
import { stdoutPalette } from '../output.ts';
import { formatCount, formatDuration, truncate } from '../print/format.ts';
import { withQueue } from '../runner.ts';

interface WorkerFlags extends DbFlags {
  handlers: string;
  concurrency: number;
  grace: number;
  quiet?: boolean;
}

/** Signals that stop the worker gracefully. A third one exits at once, leaving running jobs to their leases. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `spool worker --handlers FILE`: runs jobs until SIGINT / SIGTERM, then stops gracefully and says what it did. */
export function workerCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('worker')
      .description('run jobs with the handlers a file exports, until Ctrl-C (SIGINT) or SIGTERM; then finish or release what is running')
      .requiredOption('--handlers <file>', ".js or .ts module whose default export is { 'job-name': async (job, ctx) => result }")
      .option('--concurrency <n>', 'jobs run at once', wholeNumber(1), 1)
      .option('--grace <ms>', 'on stop, how long running jobs may finish before they are released to pending, unspent: 10s, 500', duration(false), 10_000)
      .option('--quiet', 'print only the start and the stop, not a line per job'),
  );
  return withExamples(command, [
    'spool worker --handlers ./jobs.ts --concurrency 10',
    'SPOOL_DATABASE_URL=postgres://app@db/app spool worker --handlers ./dist/jobs.js --grace 30s',
  ]).action(async (flags: WorkerFlags) => {
    const handlers = await loadHandlers(flags.handlers, process.cwd());
    await withQueue(ctx, flags, async (queue, config) => {
      const p = stdoutPalette(ctx);
      const stamp = () => p.dim(new Date().toISOString().slice(11, 19));
      const worker = queue.worker(handlers, { concurrency: flags.concurrency, graceMs: flags.grace });
      const running = new Map<string, Job>();
      const line = (text: string) => !flags.quiet && ctx.out(`${stamp()} ${text}\n`);
      const took = (job: Job) => (job.startedAt ? ` in ${formatDuration(Date.now() - job.startedAt.getTime())}` : '');
      queue.on('started', ({ job }: QueueEvent) => void running.set(job.id, job));
      queue.on('completed', ({ job }) => {
        running.delete(job.id);
        line(`${p.green('completed')} ${job.id} ${job.name}${took(job)}`);
      });
      queue.on('retrying', ({ job }) => {
        running.delete(job.id);
        line(`${p.yellow('retrying ')} ${job.id} ${job.name}: attempt ${job.attempts} of ${job.maxAttempts} failed, next in ${formatDuration(job.runAt.getTime() - Date.now())}: ${truncate(job.error ?? '', 100)}`);
      });
      queue.on('failed', ({ job }) => {
        running.delete(job.id);
        line(`${p.red('failed   ')} ${job.id} ${job.name} after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}: ${truncate(job.error ?? '', 100)}`);
      });
      queue.on('cancelled', ({ job }) => {
        running.delete(job.id);
        line(`${p.dim('cancelled')} ${job.id} ${job.name}`);
      });

      let signals = 0;
      let stopRequested!: (signal: string) => void;
      const stop = new Promise<string>((resolve) => (stopRequested = resolve));
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals === 1) return stopRequested(signal);
        if (signals === 2) {
          ctx.err(`spool: still stopping: ${running.size} job(s) running; they are released after the grace period. ${signal} once more exits at once (their leases then run out)\n`);
          return;
        }
        ctx.err(`spool: exiting at once; ${running.size} running job(s) are taken again by another worker when their lease runs out\n`);
        process.exit(130);
      };
      for (const s of STOP_SIGNALS) process.on(s, onSignal);

      await worker.start();
      ctx.out(
        `${stamp()} worker ${worker.id} running ${Object.keys(handlers).join(', ')} on ${displayUrl(config.url)}, concurrency ${flags.concurrency}; Ctrl-C stops it gracefully\n`,
      );
      const signal = await stop;
      ctx.out(`${stamp()} ${signal}: stopping; claiming nothing more, ${running.size} running job(s) get ${formatDuration(flags.grace)} to finish\n`);
      await worker.stop();
      for (const s of STOP_SIGNALS) process.off(s, onSignal);

      const st = worker.stats();
      const finished = st.completed + st.failed + st.cancelled;
      // Started and never settled: released by the stop (prefetched jobs that never started are counted, not named).
      const releasedIds = [...running.keys()];
      ctx.out(
        `${stamp()} stopped: finished ${formatCount(finished)} job(s) (${st.completed} completed, ${st.failed} failed, ${st.cancelled} cancelled)` +
          `${st.retried > 0 ? `, ${st.retried} failed attempt(s) to retry later` : ''}` +
          `; released ${formatCount(st.released)} job(s) unspent back to pending${releasedIds.length > 0 ? ` (${releasedIds.join(', ')})` : ''}\n`,
      );
    });
  });
}
