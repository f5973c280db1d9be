import type { StoreStats } from './store.ts';

/**
 * Counts what a store sends to its database: statements (each SQL statement executed) and round trips
 * (each call that waits on the database; a transaction of three statements is one round trip in SQLite,
 * and one pipelined batch in PostgreSQL). Tests assert these numbers; they are how N+1 stays dead.
 */
export class StatementCounter {
  private statements = 0;
  private roundTrips = 0;
  private readonly byMethod: Record<string, number> = {};

  /** Records one round trip of `method` carrying `statements` statements. */
  record(method: string, statements = 1): void {
    this.statements += statements;
    this.roundTrips += 1;
    this.byMethod[method] = (this.byMethod[method] ?? 0) + statements;
  }

  /** Adds statements to a round trip already recorded (their number was known only once it ran). */
  add(method: string, statements: number): void {
    this.statements += statements;
    this.byMethod[method] = (this.byMethod[method] ?? 0) + statements;
  }

  snapshot(): StoreStats {
    return { statements: this.statements, roundTrips: this.roundTrips, byMethod: { ...this.byMethod } };
  }
}
