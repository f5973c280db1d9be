import { z } from 'zod';
import { ValidationError } from './errors.ts';
import { QUEUE_EVENT_TYPES } from './events.ts';
import { JOB_STATUSES, type TransactionClient } from './job.ts';
import { textProblem } from './storable-text.ts';

/**
 * One schema per input that crosses the public edge (library calls; the server and CLI reuse them).
 * Each message says what a field must be; `parseInput` adds the path and the value received.
 */

const MAX_INT = 2_147_483_647;
const wholeMs = (what: string, min = 0) =>
  z
    .number({ error: `must be ${what} in milliseconds (a finite number)` })
    .int(`must be a whole number of milliseconds`)
    .min(min, `must be at least ${min} ms`)
    .max(MAX_INT, `must be at most ${MAX_INT} ms (about 24.8 days)`);
const wholeCount = (what: string, min: number, max: number) =>
  z
    .number({ error: `must be ${what} (a finite number)` })
    .int(`must be a whole number`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/**
 * Plain text both stores hold as given (no NUL byte, no lone surrogate); without this check PostgreSQL
 * refused such a uniqueKey with a StoreError and SQLite wrote the job, mangled, then threw.
 */
const storableString = (what: string, max: number) =>
  z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .superRefine((text, ctx) => {
      const problem = textProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; send ${what} without it` });
    });

/**
 * The dates both stores hold: SQLite any, PostgreSQL's timestamptz none before 4713 BC. Years 1 to 9999
 * (ISO 8601's four digits) are far beyond any real schedule.
 */
const MIN_DATE = new Date('0001-01-01T00:00:00.000Z');
const MAX_DATE = new Date('9999-12-31T23:59:59.999Z');

/** Job names: what a handler map is keyed by, and what URLs and metrics labels carry. */
export const jobNameSchema = z
  .string({ error: 'must be a string' })
  .min(1, { message: 'must not be empty', abort: true })
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9_.:@/-]+$/, 'may contain only letters, digits and _ . : @ / -');

const backoffSchema = z.discriminatedUnion(
  'type',
  [
    z
      .strictObject({
        type: z.literal('exponential'),
        delay: wholeMs('the first retry delay', 0),
        maxDelay: wholeMs('the longest retry delay', 0).optional(),
        jitter: z.boolean({ error: 'must be true or false' }).optional(),
      })
      .refine((b) => b.maxDelay === undefined || b.maxDelay >= b.delay, {
        path: ['maxDelay'],
        message: 'must be at least delay (the first retry delay); raise maxDelay or lower delay',
      }),
    z.strictObject({
      type: z.literal('fixed'),
      delay: wholeMs('the retry delay', 0),
      jitter: z.boolean({ error: 'must be true or false' }).optional(),
    }),
  ],
  { error: `must be { type: 'exponential', delay, maxDelay?, jitter? } or { type: 'fixed', delay, jitter? }` },
);

/** Options of queue.add() and of each addBulk() entry. */
export const jobOptionsSchema = z
  .strictObject({
    priority: wholeCount('the priority', -MAX_INT, MAX_INT).optional(),
    delay: wholeMs('the delay').optional(),
    runAt: z
      .date({ error: 'must be a valid Date' })
      .min(MIN_DATE, 'must be on or after year 1 (0001-01-01T00:00:00Z)')
      .max(MAX_DATE, 'must be on or before year 9999 (9999-12-31T23:59:59.999Z)')
      .optional(),
    maxAttempts: wholeCount('the number of attempts', 1, 1000).optional(),
    backoff: backoffSchema.optional(),
    timeout: wholeMs('the attempt timeout', 1).optional(),
    uniqueKey: storableString('a key', 255).optional(),
    concurrencyKey: storableString('a concurrency key', 255).optional(),
    client: z
      .custom<TransactionClient>((v) => typeof (v as { query?: unknown } | null)?.query === 'function', {
        message: 'must be a pg Client or PoolClient inside your open transaction (PostgreSQL only)',
      })
      .optional(),
  })
  .refine((o) => o.delay === undefined || o.runAt === undefined, {
    path: ['runAt'],
    message: 'cannot be given together with delay; give delay (ms from now) or runAt (a Date), not both',
  });

/** Deepest nesting of a data filter, and its largest size as JSON. */
const DATA_FILTER_DEPTH = 16;
const DATA_FILTER_BYTES = 8 * 1024;

/** Why a data filter is unusable, or null. */
function dataFilterProblem(value: unknown, path: string, depth: number): string | null {
  if (depth > DATA_FILTER_DEPTH) return `${path} is nested more than ${DATA_FILTER_DEPTH} levels deep`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}, which JSON cannot hold`;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const problem = dataFilterProblem(v, `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) {
      // Keys become quoted JSON paths in SQLite's statements; a quote or a control character cannot be written there.
      if (k === '' || [...k].some((ch) => ch === '"' || ch === '\\' || ch.charCodeAt(0) < 0x20)) {
        return `${path} has the key ${JSON.stringify(k)}; keys must be non-empty, without quotes, backslashes or control characters`;
      }
      const problem = dataFilterProblem(v, `${path}.${k}`, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  return `${path} is ${describeValue(value)}, which is not JSON data`;
}

/**
 * A data filter: a JSON object the job's data must contain (PostgreSQL jsonb containment: keys present with
 * contained values, arrays holding each listed element, scalars equal).
 */
export const dataFilterSchema = z.custom<Record<string, unknown>>().superRefine((value, ctx) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object the job data must contain, e.g. { "repo": "a/b" }' });
    return;
  }
  const problem = dataFilterProblem(value, 'data', 0);
  if (problem) ctx.addIssue({ code: 'custom', message: `is unusable: ${problem}` });
  else if (Buffer.byteLength(JSON.stringify(value)) > DATA_FILTER_BYTES) ctx.addIssue({ code: 'custom', message: `must be at most ${DATA_FILTER_BYTES} bytes as JSON` });
});

const statusSchema = z.enum(JOB_STATUSES as [string, ...string[]], { error: `must be one of ${JOB_STATUSES.join(', ')}` });

/** The filter of countJobs() and of the bulk actions. */
export const jobFilterSchema = z.strictObject({
  status: statusSchema.optional(),
  name: z.lazy(() => jobNameSchema).optional(),
  data: dataFilterSchema.optional(),
});

/** The filter and page of queue.listPage(). */
export const pageFilterSchema = jobFilterSchema.extend({
  limit: wholeCount('the page size', 1, 1000).optional(),
  cursor: z.string({ error: 'must be a job id string' }).regex(/^[1-9][0-9]{0,15}$/, 'must be a job id (nextCursor of the previous page)').optional(),
  scan: wholeCount('how many jobs below the cursor a data search examines', 1000, 10_000_000).optional(),
});

/** Filter of queue.listJobs(). */
export const listFilterSchema = z.strictObject({
  status: z.enum(JOB_STATUSES as [string, ...string[]], { error: `must be one of ${JOB_STATUSES.join(', ')}` }).optional(),
  name: jobNameSchema.optional(),
  data: dataFilterSchema.optional(),
  limit: wholeCount('the page size', 1, 1000).optional(),
  offset: wholeCount('the number of jobs to skip', 0, MAX_INT).optional(),
  cursor: z.string({ error: 'must be a job id string' }).regex(/^[1-9][0-9]{0,15}$/, 'must be a job id (the id of the last job of the previous page)').optional(),
});

/** Filter of queue.counts(). */
export const countsFilterSchema = z.strictObject({ name: jobNameSchema.optional() });

/** Options of queue.prune(). */
export const pruneOptionsSchema = z.strictObject({
  olderThan: wholeMs('how long ago a job must have finished', 0),
  statuses: z
    .array(z.enum(['completed', 'failed', 'cancelled'], { error: 'must list only completed, failed or cancelled' }))
    .min(1, 'must name at least one finished status')
    .optional(),
});

/** Options of queue.worker(). */
export const workerOptionsSchema = z.strictObject({
  concurrency: wholeCount('how many jobs run at once', 1, 10_000).optional(),
  progressFlushMs: wholeMs('how often progress and leases are written', 10).optional(),
  leaseMs: wholeMs('how long a claim holds a job', 100).optional(),
  pollMs: wholeMs('how often an idle worker looks for work', 10).optional(),
  graceMs: wholeMs('how long stop() waits for running jobs', 0).optional(),
  prefetch: z
    .union([z.literal('auto'), wholeCount('how many claimed jobs to hold beyond the running ones', 0, 10_000)], {
      error: "must be 'auto' or a whole number from 0 to 10000",
    })
    .optional(),
  id: storableString('an id', 200).optional(),
});

/** Options of createBatchedProgressUpdater(). */
export const progressUpdaterOptionsSchema = z.strictObject({
  flushInterval: wholeMs('how often queued progress is written', 1).optional(),
  maxBatchSize: wholeCount('how many queued updates force a write', 1, 100_000).optional(),
});

/** The event type of queue.on(), off() and once(). */
export const eventTypeSchema = z.enum(QUEUE_EVENT_TYPES as [string, ...string[]], { error: `must be one of ${QUEUE_EVENT_TYPES.join(', ')}` });

/** Options of queue.watch(). */
export const watchOptionsSchema = z.strictObject({
  names: z.array(z.lazy(() => jobNameSchema), { error: 'must be an array of job names' }).max(1000, 'must list at most 1000 names').optional(),
  ids: z.array(z.lazy(() => jobIdSchema), { error: 'must be an array of job ids' }).max(10_000, 'must list at most 10000 ids').optional(),
  onGap: z.custom<(reason: string) => void>((v) => typeof v === 'function', { message: 'must be a function (reason) => void' }).optional(),
});

/** Options of queue.throughput(). */
export const throughputOptionsSchema = z.strictObject({
  minutes: wholeCount('how many minutes back', 1, 7 * 24 * 60).optional(),
  name: z.lazy(() => jobNameSchema).optional(),
});

/** Options of queue.waitFor(). */
export const waitForOptionsSchema = z.strictObject({
  timeout: wholeMs('how long to wait', 1).optional(),
});

/** Job ids as the API hands them out. */
export const jobIdSchema = z.string({ error: 'must be a job id string' }).min(1, 'must not be empty').max(64, 'must be at most 64 characters');

/**
 * Parses `input` with `schema`, or throws one ValidationError listing every problem as
 * `<field> <what it must be>, got <value>`. Nothing is written before this returns.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, field: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.map((issue) => describeIssue(issue, schema, input, field)));
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, input: unknown, field: string): string {
  const path = [field, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, input, issue.path);
    const keys = issue.keys.map((key) => {
      const near = nearest(key, known);
      return near ? `${JSON.stringify(key)} (did you mean ${JSON.stringify(near)}?)` : JSON.stringify(key);
    });
    const fix = known.length > 0 ? `the options are ${known.join(', ')}` : 'check the spelling against the documented options';
    return `${path} has unknown option${keys.length > 1 ? 's' : ''} ${keys.join(', ')}; ${fix}`;
  }
  const received = valueAt(input, issue.path);
  // Zod's own wording ("Invalid input: expected object, received number") for the few types we give no message.
  const message = issue.code === 'invalid_type' && issue.message.startsWith('Invalid input') ? `must be ${article(issue.expected)}` : issue.message;
  return `${path} ${message}, got ${describeValue(received)}`;
}

/**
 * The keys a strict object schema accepts at `path`, for "the options are …" hints; [] when unknown.
 * A discriminated union (backoff) answers with the keys of the variant the input's discriminator names.
 */
function knownKeys(schema: z.ZodType, input: unknown, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  let value = input;
  for (const key of [...path, null]) {
    while (current instanceof z.ZodOptional) current = current.unwrap();
    if (current instanceof z.ZodDiscriminatedUnion) {
      const tag = current._zod.def.discriminator;
      const wanted = (value as Record<string, unknown> | null)?.[tag];
      current = current.options.find((o) => o instanceof z.ZodObject && (o.shape[tag] as z.ZodLiteral | undefined)?.value === wanted);
    }
    if (!(current instanceof z.ZodObject)) return [];
    if (key === null) return Object.keys(current.shape);
    current = current.shape[String(key)];
    value = (value as Record<PropertyKey, unknown> | null)?.[key];
  }
  return [];
}

/** The likeliest meant key: the fewest edits apart (at most two), else one containing the other. */
function nearest(typed: string, known: string[]): string | undefined {
  const a = typed.toLowerCase();
  const scored = known
    .map((k) => ({ k, d: editDistance(a, k.toLowerCase()) }))
    .filter(({ k, d }) => d <= 2 || (a.length >= 4 && k.toLowerCase().includes(a)))
    .sort((x, y) => x.d - y.d);
  return scored[0]?.k;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

function article(type: string): string {
  return type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A short, safe rendering of a received value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}… (${value.length} chars)` : JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : typeof value;
}
