import { resolve } from 'node:path';
import { z } from 'zod';
import { type Clock, systemClock } from './clock.ts';
import { ValidationError } from './errors.ts';
import { describeValue, parseInput } from './input-schemas.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './json-payload.ts';
import { defaultLogger, type Logger } from './logger.ts';
import { Queue } from './queue.ts';
import { type RetentionPolicy, retentionSchema } from './retention.ts';
import { PostgresStore } from './store/postgres/postgres-store.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';

/** The database used when neither an option nor SPOOL_DATABASE_URL names one. */
export const DEFAULT_DATABASE_URL = 'sqlite:./spool.db';

/** Options of openQueue(). */
export interface OpenQueueOptions {
  /** `sqlite:./file.db`, `sqlite::memory:` or `postgres://…`; default SPOOL_DATABASE_URL, then sqlite:./spool.db. */
  url?: string;
  /**
   * PostgreSQL pool (default 4). A worker has at most three statements in flight whatever its concurrency
   * (claim, finish, tick): a pool of 2 serves it, the third statement waiting briefly (test/postgres.pool.test.ts).
   */
  pool?: { max?: number };
  /** PostgreSQL schema holding Spool's tables; default 'spool'. */
  schema?: string;
  /** Largest job data (and result, progress) as JSON; default 1 MiB. */
  maxPayloadBytes?: number;
  /** SQLite: 'full' (default) survives power loss; 'normal' only process crashes, with far more commits/s. */
  durability?: 'full' | 'normal';
  /** Where time comes from; tests inject one. */
  clock?: Clock;
  /** Where warnings and errors go; default stderr, warnings and errors only. */
  logger?: Logger;
  /**
   * Finished jobs workers delete, by age or count per status, e.g. `{ completed: { olderThanMs: 7 * 86_400_000 },
   * failed: { keep: 10_000 } }`: every worker runs it at start and each minute, in bounded batches (docs/schedules.md).
   */
  retention?: RetentionPolicy;
}

const openOptionsSchema = z.strictObject({
  url: z.string({ error: 'must be a database URL string' }).min(1, 'must not be empty').optional(),
  pool: z.strictObject({ max: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional() }).optional(),
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)').optional(),
  maxPayloadBytes: z.number({ error: 'must be a number of bytes' }).int('must be a whole number of bytes').min(1, 'must be at least 1').optional(),
  durability: z.enum(['full', 'normal'], { error: "must be 'full' or 'normal'" }).optional(),
  clock: z.custom<Clock>((v) => typeof (v as Clock)?.now === 'function', { message: 'must be an object with now(): number' }).optional(),
  retention: retentionSchema.optional(),
  logger: z.custom<Logger>((v) => ['debug', 'info', 'warn', 'error'].every((k) => typeof (v as Record<string, unknown>)?.[k] === 'function'), {
    message: 'must have debug, info, warn and error functions',
  }).optional(),
});

/**
 * Opens a queue on the database a URL names, creating or migrating its tables. Resolution order:
 * the `url` given, then env SPOOL_DATABASE_URL, then sqlite:./spool.db.
 */
export async function openQueue(urlOrOptions: string | OpenQueueOptions = {}): Promise<Queue> {
  if (typeof urlOrOptions !== 'string' && (typeof urlOrOptions !== 'object' || urlOrOptions === null)) {
    throw new ValidationError([`openQueue() takes a database URL string or an options object { url, … }, got ${describeValue(urlOrOptions)}`]);
  }
  const options = parseInput(openOptionsSchema, typeof urlOrOptions === 'string' ? { url: urlOrOptions } : urlOrOptions, 'options');
  const url = options.url ?? process.env.SPOOL_DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const store = await openStore(url, options);
  return new Queue(store, {
    clock: options.clock ?? systemClock,
    logger: options.logger ?? defaultLogger,
    maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    ...(options.retention ? { retention: options.retention as RetentionPolicy } : {}),
  });
}

/** Opens the store a URL names. */
export async function openStore(url: string, options: Pick<OpenQueueOptions, 'pool' | 'schema' | 'durability' | 'logger'> = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) return new SqliteStore({ path: sqlitePath(url), durability: options.durability });
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return PostgresStore.open({ url, schema: options.schema, poolMax: options.pool?.max, logger: options.logger });
  }
  throw notADatabaseUrl(url);
}

/** The file a sqlite: URL names (absolute), or ':memory:'. */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  if (rest === '') throw new ValidationError([`url ${JSON.stringify(url)} names no file; use sqlite:./spool.db, sqlite:/abs/path.db or sqlite::memory:`]);
  return rest === ':memory:' ? ':memory:' : resolve(rest.replace(/^\/\/(?=\/)/, ''));
}

/** The error for a URL that is neither sqlite: nor postgres(ql)://. */
export function notADatabaseUrl(url: string): ValidationError {
  return new ValidationError([
    `url ${JSON.stringify(url)} is not a Spool database URL; use sqlite:./spool.db, sqlite::memory: or postgres://user@host:port/db`,
  ]);
}
