/**
 * The one slot a worker's background statements take turns on: the tick, the schedule firer's read and fire,
 * and retention's deletes. With the claim and the finish that keeps a worker at three statements in flight at
 * most, so a pool of two connections serves it with at most one statement waiting (test/postgres.pool.test.ts).
 * First come, first served; a turn is one short statement or transaction.
 */
export class BackgroundSlot {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` once the turns before it are done; resolves or rejects as it does. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.tail.then(work, work);
    this.tail = turn.catch(() => {});
    return turn;
  }
}
