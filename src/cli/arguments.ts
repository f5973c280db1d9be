import { InvalidArgumentError } from 'commander';
import { JOB_STATUSES, type JobStatus } from '../index.ts';
import { UsageError } from './usage-error.ts';

/** A commander parser for a whole number of at least `min`. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** A commander parser for a whole number that may be negative (priorities). */
export function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`must be a whole number, got ${JSON.stringify(value)}`);
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Milliseconds from "1500", "500ms", "30s", "5m", "12h", "7d" or "2w". With `unitRequired`, a bare number is
 * refused (is `--older-than 7` seven days or seven milliseconds?).
 */
export function duration(unitRequired: boolean): (value: string) => number {
  return (value) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(value);
    if (!match || (unitRequired && !match[2])) {
      const hint = unitRequired ? 'a number with a unit: 500ms, 30s, 5m, 12h, 7d, 2w' : 'milliseconds (1500) or a number with a unit: 500ms, 30s, 5m, 12h, 7d';
      throw new InvalidArgumentError(`must be ${hint}; got ${JSON.stringify(value)}`);
    }
    return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
  };
}

/** A commander parser for one job status. */
export function jobStatus(value: string): JobStatus {
  if (!(JOB_STATUSES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${JOB_STATUSES.join(', ')}; got ${JSON.stringify(value)}`);
  return value as JobStatus;
}

/** JSON given on the command line, with a message that shows how to quote it when it does not parse. */
export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${what} is not valid JSON (${(error as Error).message}): got ${JSON.stringify(text)}. ` +
        `Quote it for your shell, e.g. '{"repo":"a/b"}', or pass - to read it from stdin`,
    );
  }
}
