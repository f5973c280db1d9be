/**
 * How the claim loop sleeps and is woken: a nudge wakes it on the next turn of the event loop (so outcomes
 * settling in the same turn are written together), a sleep ends at a nudge or after a time, and timers set
 * for later wake-ups (a delayed job coming due) are cleared together when the worker stops.
 */
/**
 * setTimeout's longest delay (about 24.8 days). A longer one fires after 1 ms, with a warning: a wake-up for a
 * flow parent waiting for its children (runAt in the year 275760, src/flows/flow.ts) would spin the loop.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Waker {
  private wakeUp: (() => void) | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Wakes the sleeping loop, if it sleeps; completions settling in the same turn are written together. */
  nudge(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    if (wake) setImmediate(wake);
  }

  /** Waits for a nudge, or `ms` (forever when undefined); `onTimeout` runs if the time ran out first. */
  sleep(ms: number | undefined, onTimeout?: () => void): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.wakeUp = undefined;
          onTimeout?.();
          resolve();
        }, Math.min(MAX_TIMER_MS, ms));
      }
    });
  }

  /** Runs `fn` after `ms`, unless clear() runs first. */
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    this.timers.add(timer);
  }

  /** Cancels every pending after(). */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
