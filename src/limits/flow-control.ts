import { ValidationError } from '../errors.ts';
import { jobNameSchema, parseInput } from '../input-schemas.ts';
import type { Store } from '../store/store.ts';
import { limitsOf, type NameControl, type NameLimits, nameLimitsSchema } from './limits.ts';

/** A name's flow control as queue.names() and the API report it. */
export interface NameFlow {
  paused: boolean;
  /** The limits set (only those set), or null for none. */
  limits: NameLimits | null;
}

/** Pauses or resumes a name for every worker: one statement. */
export async function setPaused(store: Store, name: unknown, paused: boolean, now: number): Promise<NameControl> {
  const n = parseInput(jobNameSchema, name, 'name');
  return store.setControl({ name: n, paused, now });
}

/** Replaces a name's limits (absent or null: none), validated before anything is written: one statement. */
export async function setLimits(store: Store, name: unknown, limits: unknown, now: number): Promise<NameControl> {
  const n = parseInput(jobNameSchema, name, 'name');
  if (limits === null || limits === undefined) {
    throw new ValidationError(['limits must be an object of limits, e.g. { concurrency: 2 }; pass {} to remove them all']);
  }
  const l = parseInput(nameLimitsSchema, limits, 'limits');
  return store.setControl({
    name: n,
    now,
    limits: {
      concurrency: l.concurrency ?? null,
      perKeyConcurrency: l.perKeyConcurrency ?? null,
      rate: l.rate ?? null,
      perKeyRate: l.perKeyRate ?? null,
    },
  });
}

/** Each name's flow control, by name, from the control rows (one statement). */
export async function flowByName(store: Store): Promise<Map<string, NameFlow>> {
  const rows = await store.controls();
  return new Map(rows.map((c) => [c.name, { paused: c.paused, limits: limitsOf(c) }]));
}
