import { Command } from 'commander';
import { JobFailedError, type JobOptions, type Queue } from '../../index.ts';
import { duration, integer, parseJsonArgument, wholeNumber } from '../arguments.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { type ImportSummary, importNdjson } from '../import/ndjson-import.ts';
import { openLineSource } from '../import/ndjson-source.ts';
import { printJson, stdoutPalette } from '../output.ts';
import { formatCount } from '../print/format.ts';
import { progressBar } from '../print/progress-bar.ts';
import { signalExitCode, untilInterrupted } from '../interrupt.ts';
import { shortJson } from '../print/format.ts';
import { renderFields } from '../print/table.ts';
import { withQueue } from '../runner.ts';
import { jobFields } from './show.ts';
import { UsageError } from '../usage-error.ts';

interface AddFlags extends DbFlags {
  priority?: number;
  delay?: number;
  attempts?: number;
  unique?: string;
  concurrencyKey?: string;
  timeout?: number;
  file?: string;
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
}

/** Rejected lines listed for people; --json lists them all. */
const SHOWN_REJECTS = 20;

/** `spool add NAME [JSON]` (one job) and `spool add --file jobs.ndjson` (many). */
export function addCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('add')
      .description('add a job, or import many from an NDJSON file')
      .argument('[name]', "the job's name (with --file: the name of every line's job, each line then being its data)")
      .argument('[json]', "the job's data as JSON (default null); - reads it from stdin")
      .option('--priority <n>', 'higher runs first (default 0)', integer)
      .option('--delay <ms>', 'wait this long before it may run: 1500, 30s, 5m, 2h', duration(false))
      .option('--attempts <n>', 'attempts in all, the first included (default 3)', wholeNumber(1))
      .option('--unique <key>', 'at most one pending or running job with this key; adding another returns its id')
      .option('--concurrency-key <key>', "the key the name's per-key limits count by (spool limits NAME --per-key-concurrency N)")
      .option('--timeout <ms>', 'an attempt running longer is aborted and fails: 60000, 1m', duration(false))
      .option('--wait', 'wait until the job finishes, whichever worker runs it; print its result; exit 1 if it fails or is cancelled')
      .option('--wait-timeout <ms>', 'with --wait: give up after this long (exit 1): 30s, 5m', duration(false))
      .option('--file <path>', 'import NDJSON: one job per line, { "name", "data", "options" } (- reads stdin)')
      .option('--json', 'print { id } (or the import summary) as JSON'),
  );
  return withExamples(command, [
    `spool add deep-scan '{"repo":"acme/api"}' --priority 10`,
    `spool add send-report '{}' --delay 5m --attempts 5 --unique report:daily`,
    `spool add deep-scan '{"repo":"acme/api"}' --wait --wait-timeout 10m   # exit 1 if the scan fails`,
    'spool add --file jobs.ndjson                 # lines like {"name":"deep-scan","data":{"repo":"a/b"},"options":{"priority":5}}',
    'spool add deep-scan --file repos.ndjson      # every line is the data of one deep-scan job',
  ]).action(async (name: string | undefined, json: string | undefined, flags: AddFlags) => {
    const options: JobOptions = {
      ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
      ...(flags.delay !== undefined ? { delay: flags.delay } : {}),
      ...(flags.attempts !== undefined ? { maxAttempts: flags.attempts } : {}),
      ...(flags.unique !== undefined ? { uniqueKey: flags.unique } : {}),
      ...(flags.concurrencyKey !== undefined ? { concurrencyKey: flags.concurrencyKey } : {}),
      ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
    };
    if (flags.file !== undefined) {
      if (json !== undefined) throw new UsageError('with --file the jobs come from the file: give at most a job name, not JSON data');
      if (flags.unique !== undefined) throw new UsageError('--unique would give every line of the file the same key; put "uniqueKey" in each line\'s "options" instead');
      if (flags.wait) throw new UsageError('--wait waits for one job; it does not combine with --file');
      return addFromFile(ctx, flags.file, name, options, flags);
    }
    if (name === undefined) throw new UsageError('give the job a name: spool add NAME [JSON], or import a file: spool add --file jobs.ndjson');
    const data = json === undefined ? null : parseJsonArgument(json === '-' ? await ctx.readStdin() : json, 'the job data');
    if (flags.waitTimeout !== undefined && !flags.wait) throw new UsageError('--wait-timeout goes with --wait');
    await withQueue(ctx, flags, async (queue) => {
      const id = await queue.add(name, data, options);
      if (!flags.wait) {
        if (flags.json) return printJson(ctx, { id });
        return ctx.out(`added job ${id} (${name})\n`);
      }
      if (!flags.json) ctx.err(`added job ${id} (${name}); waiting for it to finish (Ctrl-C stops waiting, not the job)\n`);
      await waitForJob(ctx, queue, id, flags);
    });
  });
}

/** `--wait`: progress on stderr while it runs (terminal only), the finished job on stdout; exit 1 unless it completed. */
async function waitForJob(ctx: CommandContext, queue: Queue, id: string, flags: AddFlags): Promise<void> {
  const live = ctx.stderrIsTTY && !flags.json;
  const unwatch = live
    ? queue.watch(({ type, job }) => {
        if (type === 'progress' || type === 'started' || type === 'retrying') {
          ctx.err(`\r${type === 'retrying' ? 'retrying' : 'running'}: ${'progress' in job ? shortJson(job.progress, 70) : ''}\u001b[K`);
        }
      }, { ids: [id] })
    : () => {};
  const interrupt = untilInterrupted();
  try {
    const outcome = await Promise.race([
      queue.waitFor(id, flags.waitTimeout !== undefined ? { timeout: flags.waitTimeout } : {}).then(
        (job) => ({ job, error: undefined }),
        (error: unknown) => ({ job: error instanceof JobFailedError ? error.job : undefined, error: error as Error }),
      ),
      interrupt.signal.then((signal) => ({ signal })),
    ]);
    if (live) ctx.err('\r\u001b[K');
    if ('signal' in outcome) {
      ctx.err(`spool: stopped waiting (${outcome.signal}); job ${id} goes on: spool show ${id} --follow\n`);
      ctx.setExitCode(signalExitCode(outcome.signal));
      return;
    }
    if (flags.json) printJson(ctx, outcome.job ?? { id, error: outcome.error?.message });
    else if (outcome.job) ctx.out(renderFields(jobFields(outcome.job, Date.now(), stdoutPalette(ctx)), stdoutPalette(ctx)));
    if (outcome.error) throw outcome.error;
  } finally {
    interrupt.stop();
    unwatch();
  }
}

async function addFromFile(ctx: CommandContext, path: string, name: string | undefined, options: JobOptions, flags: AddFlags): Promise<void> {
  const source = await openLineSource(path, ctx.readStdin);
  await withQueue(ctx, flags, async (queue) => {
    const checking = progressBar(ctx, 'checking lines');
    let adding: ReturnType<typeof progressBar> | undefined;
    const summary = await importNdjson(queue, source, {
      name,
      options,
      onChecked: (n) => checking.update(n),
      onAdded: (added, of) => {
        if (!adding) {
          checking.finish();
          adding = progressBar(ctx, 'adding jobs   ', of);
        }
        adding.update(added);
      },
    });
    if (adding) adding.finish();
    else checking.finish();
    if (flags.json) printJson(ctx, summary);
    else printSummary(ctx, source.label, summary);
    // Some lines were not added: the import as a whole did not do everything asked of it.
    if (summary.rejected.length > 0) ctx.setExitCode(1);
  });
}

function printSummary(ctx: CommandContext, label: string, s: ImportSummary): void {
  const p = stdoutPalette(ctx);
  ctx.out(`added ${p.green(formatCount(s.added))} of ${formatCount(s.jobs)} jobs from ${label}\n`);
  if (s.rejected.length === 0) return;
  ctx.out(`${p.red(`rejected ${formatCount(s.rejected.length)} line${s.rejected.length === 1 ? '' : 's'}`)} (nothing of them was written):\n`);
  for (const r of s.rejected.slice(0, SHOWN_REJECTS)) ctx.out(`  line ${r.line}: ${r.reason}\n`);
  if (s.rejected.length > SHOWN_REJECTS) ctx.out(p.dim(`  … and ${formatCount(s.rejected.length - SHOWN_REJECTS)} more (--json lists every one)\n`));
}
