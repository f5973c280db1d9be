import { type Clock, type Logger, Queue } from '../../src/index.ts';
import { systemClock } from '../../src/clock.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../../src/json-payload.ts';
import { defaultLogger } from '../../src/logger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

/**
 * Statements counted where they leave Spool, not by the store's own counter, so a query sent around that
 * counter (a stray `db.prepare().all()` in a loop, a `pool.query` per job) is seen: for PostgreSQL the
 * PgWireCounter proxy (pg-wire-counter.ts), for SQLite better-sqlite3's `verbose` hook on the store's own
 * connection (this file).
 */
export interface WireCount {
  /** Statements sent so far. */
  statements(): number;
}

/**
 * SQL that is not a statement of the store's work: a transaction's BEGIN/COMMIT (SQLite runs it in-process:
 * no round trip) and the change feed's `PRAGMA data_version` poll (an in-memory read every 50 ms, no table).
 */
const NOT_COUNTED = /^\s*(BEGIN|COMMIT|ROLLBACK|END|PRAGMA data_version)\b/i;

/** Counts the statements of every SQLite connection it traces. */
export class SqliteStatementCounter implements WireCount {
  private count = 0;
  readonly trace = (sql: string): void => {
    if (!NOT_COUNTED.test(sql)) this.count++;
  };
  statements(): number {
    return this.count;
  }
}

/** openQueue() for a SQLite file, with every statement of its connection traced by `counter`. */
export function openTracedSqliteQueue(path: string, counter: SqliteStatementCounter, options: { clock?: Clock; logger?: Logger } = {}): Queue {
  return new Queue(new SqliteStore({ path, trace: counter.trace }), {
    clock: options.clock ?? systemClock,
    logger: options.logger ?? defaultLogger,
    maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  });
}
