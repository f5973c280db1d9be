import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { jobNameSchema, jobOptionsSchema, parseInput } from '../input-schemas.ts';
import type { BackoffOptions } from '../job.ts';
import { CronTimes, isTimeZone } from './cron-time.ts';

/** When a schedule fires: a cron pattern in an IANA zone (default UTC), or every N ms. */
export type ScheduleSpec = { cron: string; tz?: string } | { every: number };

/** What to do with fires that fell while no process ran (older than MISSED_AFTER_MS when found). */
export type MissedPolicy = 'skip' | 'latest' | 'all';

/** Options of queue.schedule(): the missed-fire policy, and the options of each job it adds. */
export interface ScheduleOptions {
  /** Default 'skip'. 'latest' runs the newest missed fire once; 'all' runs each, up to MAX_CATCH_UP. */
  missed?: MissedPolicy;
  priority?: number;
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Attempt timeout, ms. */
  timeout?: number;
}

/** A schedule as queue.listSchedules() reports it. */
export interface ScheduleInfo {
  key: string;
  cron?: string;
  tz?: string;
  every?: number;
  name: string;
  data: unknown;
  options: Omit<ScheduleOptions, 'missed'>;
  missed: MissedPolicy;
  /** The next fire time (null: the pattern never fires again). While paused, when it would fire. */
  nextRunAt: Date | null;
  /** The newest fire time a job was added for (null: none yet); triggerSchedule() does not move it. */
  lastRunAt: Date | null;
  paused: boolean;
}

/**
 * A fire older than this when a process finds it was missed (no process ran at its time): the missed policy
 * decides. Younger fires are on time and always run, under any policy. One minute is well above how late a
 * running worker fires (its next-due timer, ≤ pollMs), and above the ±30 s clock skew the tests inject.
 */
export const MISSED_AFTER_MS = 60_000;

/** Fires `missed: 'all'` runs at most per catch-up: the newest 100, older ones are dropped (and logged). */
export const MAX_CATCH_UP = 100;

/** On-time fires one pass adds at most per schedule (an `every: 1` schedule has 60,000 in a minute); the rest follow in the next pass. */
export const MAX_FIRES_PER_PASS = 1_000;

const MAX_EVERY = 366 * 86_400_000;
const keySchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((k) => ![...k].some((ch) => ch.charCodeAt(0) < 32), 'must not contain control characters');

const cronSchema = z.strictObject({
  cron: z.string({ error: 'must be a cron pattern string' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  tz: z.string({ error: 'must be an IANA timezone name such as Europe/Berlin' }).optional(),
});
const everySchema = z.strictObject({
  every: z
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(1, 'must be at least 1 ms (a positive interval)')
    .max(MAX_EVERY, `must be at most ${MAX_EVERY} ms (366 days)`),
});

/** The spec's schema by its shape, so the message names the field at fault ("spec.every must be at least 1 ms"). */
function parseSpec(spec: unknown): ScheduleSpec {
  const o = spec !== null && typeof spec === 'object' ? (spec as Record<string, unknown>) : undefined;
  if (o && 'cron' in o) return parseInput(cronSchema, spec, 'spec');
  if (o && 'every' in o) return parseInput(everySchema, spec, 'spec');
  throw new ValidationError([`spec must be { cron: '0 3 * * *', tz?: 'Europe/Berlin' } or { every: ms }, got ${JSON.stringify(spec) ?? String(spec)}`]);
}

const optionsSchema = z.strictObject({
      missed: z.enum(['skip', 'latest', 'all'], { error: "must be 'skip', 'latest' or 'all'" }).optional(),
      priority: jobOptionsSchema.shape.priority,
      maxAttempts: jobOptionsSchema.shape.maxAttempts,
      backoff: jobOptionsSchema.shape.backoff,
      timeout: jobOptionsSchema.shape.timeout,
    });

/** A validated schedule, ready to store. */
export interface CheckedSchedule {
  key: string;
  spec: ScheduleSpec;
  name: string;
  options: ScheduleOptions;
}

/** Validates a schedule() call, throwing ValidationError naming the field; compiles the pattern to prove it. */
export function checkSchedule(key: unknown, spec: unknown, name: unknown, options: unknown): CheckedSchedule {
  const k = checkKey(key);
  const s = parseSpec(spec);
  if ('cron' in s) {
    if (s.tz !== undefined && !isTimeZone(s.tz)) {
      throw new ValidationError([`spec.tz must be an IANA timezone name such as Europe/Berlin or UTC, got ${JSON.stringify(s.tz)}`]);
    }
    try {
      new CronTimes(s.cron, s.tz ?? 'UTC');
    } catch (error) {
      throw new ValidationError([`spec.cron ${JSON.stringify(s.cron)} is not a valid cron pattern (${(error as Error).message}); use 5 fields (min hour day month weekday) or 6 with seconds first`]);
    }
  }
  const n = parseInput(jobNameSchema, name, 'name');
  const o = parseInput(optionsSchema, options ?? {}, 'options') as ScheduleOptions;
  return { key: k, spec: s, name: n, options: o };
}

/** Validates a schedule key. */
export function checkKey(key: unknown): string {
  return parseInput(keySchema, key, 'key');
}

/** The fire instants of one schedule (cron in its zone, or every N ms from its anchor). */
export class FireTimes {
  private readonly cron: CronTimes | null;

  constructor(private readonly spec: ScheduleSpec, private readonly anchor: number) {
    this.cron = 'cron' in spec ? new CronTimes(spec.cron, spec.tz ?? 'UTC') : null;
  }

  /** The first fire strictly after `t`, or null. */
  nextAfter(t: number): number | null {
    if (this.cron) return this.cron.nextAfter(t);
    const every = (this.spec as { every: number }).every;
    const k = Math.floor((t - this.anchor) / every) + 1;
    return this.anchor + Math.max(1, k) * every;
  }

  /**
   * The fires in (after, upTo], the newest `max` of them, oldest first. Reads forward from a start close to
   * `upTo` first (1 minute, 1 hour, 1 day, 1 week, 1 year back), so a schedule down for a year costs a bounded
   * walk, not one step per missed fire.
   */
  between(after: number, upTo: number, max: number): number[] {
    if (!this.cron) {
      const every = (this.spec as { every: number }).every;
      const out: number[] = [];
      const last = this.anchor + Math.floor((upTo - this.anchor) / every) * every;
      for (let t = last; t > after && t > this.anchor && out.length < max; t -= every) out.push(t);
      return out.reverse();
    }
    for (const span of [60_000, 3_600_000, 86_400_000, 7 * 86_400_000, 366 * 86_400_000, Number.POSITIVE_INFINITY]) {
      const from = Math.max(after, upTo - span);
      const fires = this.walk(from, upTo, max);
      if (fires.length >= max || from === after) return fires;
    }
    return [];
  }

  /** The oldest `max` fires in (after, upTo], oldest first. */
  first(after: number, upTo: number, max: number): number[] {
    const out: number[] = [];
    let t = after;
    while (out.length < max) {
      const next = this.nextAfter(t);
      if (next === null || next > upTo) break;
      out.push(next);
      t = next;
    }
    return out;
  }

  /** Fires in (from, upTo], keeping the newest `max`; at most 100,000 steps. */
  private walk(from: number, upTo: number, max: number): number[] {
    const out: number[] = [];
    let t = from;
    for (let steps = 0; steps < 100_000; steps++) {
      const next = this.nextAfter(t);
      if (next === null || next > upTo) break;
      out.push(next);
      if (out.length > max) out.shift();
      t = next;
    }
    return out;
  }
}
