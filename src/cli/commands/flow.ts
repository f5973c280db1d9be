import { Command, InvalidArgumentError } from 'commander';
import type { NameLimits, Queue } from '../../index.ts';
import { duration, wholeNumber } from '../arguments.ts';
import type { CommandContext } from '../command-context.ts';
import { type DbFlags, withDbOptions, withExamples } from '../db-options.ts';
import { printJson } from '../output.ts';
import { withQueue } from '../runner.ts';

/** `spool pause NAME`: no worker of any process claims jobs of NAME until `spool resume NAME`. */
export function pauseCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('pause')
      .description('pause a job name for every worker: its pending jobs wait, running ones finish (workers see it within a poll interval)')
      .argument('<name>', 'the job name')
      .option('--json', 'print the name as JSON'),
  );
  return withExamples(command, ['spool pause deep-scan']).action(async (name: string, flags: DbFlags & { json?: boolean }) => {
    await withQueue(ctx, flags, async (queue) => {
      await queue.pause(name);
      await report(ctx, queue, name, flags.json, `${name} paused: its pending jobs wait until spool resume ${name}\n`);
    });
  });
}

/** `spool resume NAME`: workers claim jobs of NAME again. */
export function resumeCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('resume').description('resume a paused job name: workers claim its jobs again').argument('<name>', 'the job name').option('--json', 'print the name as JSON'),
  );
  return withExamples(command, ['spool resume deep-scan']).action(async (name: string, flags: DbFlags & { json?: boolean }) => {
    await withQueue(ctx, flags, async (queue) => {
      await queue.resume(name);
      await report(ctx, queue, name, flags.json, `${name} resumed\n`);
    });
  });
}

interface LimitsFlags extends DbFlags {
  concurrency?: number;
  perKeyConcurrency?: number;
  rate?: { max: number; intervalMs: number };
  perKeyRate?: { max: number; intervalMs: number };
  clear?: boolean;
  json?: boolean;
}

/** `spool limits NAME [--concurrency N] …`: shows, sets (replacing the ones set before) or clears a name's limits. */
export function limitsCommand(ctx: CommandContext): Command {
  const command = withDbOptions(
    new Command('limits')
      .description("show or set a job name's limits, cluster-wide; setting replaces every limit set before")
      .argument('<name>', 'the job name')
      .option('--concurrency <n>', 'jobs of this name running at once across all workers', wholeNumber(1))
      .option('--per-key-concurrency <n>', 'jobs of one concurrencyKey running at once', wholeNumber(1))
      .option('--rate <max/interval>', 'starts per interval, e.g. 10/1s', rate)
      .option('--per-key-rate <max/interval>', 'starts of one concurrencyKey per interval, e.g. 1/5s', rate)
      .option('--clear', 'remove every limit of this name')
      .option('--json', 'print the name as JSON'),
  );
  return withExamples(command, [
    'spool limits deep-scan                                   # show them',
    'spool limits deep-scan --concurrency 2 --per-key-concurrency 1',
    'spool limits mail --rate 10/1s',
    'spool limits mail --clear',
  ]).action(async (name: string, flags: LimitsFlags) => {
    await withQueue(ctx, flags, async (queue) => {
      const limits: NameLimits = {
        ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
        ...(flags.perKeyConcurrency !== undefined ? { perKeyConcurrency: flags.perKeyConcurrency } : {}),
        ...(flags.rate !== undefined ? { rate: flags.rate } : {}),
        ...(flags.perKeyRate !== undefined ? { perKeyRate: flags.perKeyRate } : {}),
      };
      if (flags.clear || Object.keys(limits).length > 0) await queue.setLimits(name, flags.clear ? {} : limits);
      await report(ctx, queue, name, flags.json);
    });
  });
}

/** Prints the name's pause and limits (one read of the names). */
async function report(ctx: CommandContext, queue: Queue, name: string, json: boolean | undefined, line?: string): Promise<void> {
  const info = (await queue.names()).find((n) => n.name === name);
  const flow = { name, paused: info?.paused ?? false, limits: info?.limits ?? null };
  if (json) return printJson(ctx, flow);
  if (line) return ctx.out(line);
  ctx.out(`${name}${flow.paused ? ' (paused)' : ''}: ${describeLimits(flow.limits)}\n`);
}

/** "concurrency 2, per key 1, rate 10/1000ms" or "no limits". */
export function describeLimits(limits: NameLimits | null): string {
  if (!limits) return 'no limits';
  const parts: string[] = [];
  if (limits.concurrency) parts.push(`concurrency ${limits.concurrency}`);
  if (limits.perKeyConcurrency) parts.push(`per key ${limits.perKeyConcurrency}`);
  if (limits.rate) parts.push(`rate ${limits.rate.max}/${limits.rate.intervalMs}ms`);
  if (limits.perKeyRate) parts.push(`per-key rate ${limits.perKeyRate.max}/${limits.perKeyRate.intervalMs}ms`);
  return parts.join(', ');
}

/** "10/1s" → { max: 10, intervalMs: 1000 }. */
function rate(value: string): { max: number; intervalMs: number } {
  const [max, interval, ...rest] = value.split('/');
  if (max === undefined || interval === undefined || rest.length > 0) throw new InvalidArgumentError(`must be max/interval, e.g. 10/1s; got ${JSON.stringify(value)}`);
  return { max: wholeNumber(1)(max), intervalMs: duration(true)(interval) };
}
