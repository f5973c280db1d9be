import type { Queue, QueueEvent, QueueEventType } from '../../src/index.ts';

/** Resolves when `predicate` holds, polling every 5 ms; fails after `timeoutMs` saying what it waited for. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the first event of `type` matching `match`; fails after `timeoutMs`. */
export function nextEvent(queue: Queue, type: QueueEventType, match: (e: QueueEvent) => boolean = () => true, timeoutMs = 10_000): Promise<QueueEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      queue.off(type, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a '${type}' event`));
    }, timeoutMs);
    const listener = (event: QueueEvent) => {
      if (!match(event)) return;
      clearTimeout(timer);
      queue.off(type, listener);
      resolve(event);
    };
    queue.on(type, listener);
  });
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public time = Date.UTC(2030, 0, 1)) {}
  now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}
