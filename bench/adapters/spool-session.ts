import type { Queue, QueueEvent, Worker } from '../../src/index.ts';
import type { BenchHandler, Session, Traffic } from './adapter.ts';

/**
 * A Spool queue as a benchmark session, the same for both stores: the public API only (add, addBulk,
 * worker, counts, listJobs, stats). Statements come from queue.stats(), the store's own counter.
 * Store-specific parts (seeding finished jobs, cleanup) are passed in.
 */
export class SpoolSession implements Session {
  private worker: Worker | undefined;

  constructor(
    private readonly queue: Queue,
    private readonly hooks: {
      seedFinished: (name: string, n: number) => Promise<void>;
      /** Direct SQL (benchmarks may inspect): the API's counts() scans all of a name's jobs. */
      unfinished: (name: string) => Promise<number>;
      cleanup: () => Promise<void>;
      wire?: () => Traffic;
    },
  ) {}

  async add(name: string, data: unknown): Promise<void> {
    await this.queue.add(name, data);
  }

  async addBulk(jobs: { name: string; data: unknown; concurrencyKey?: string }[]): Promise<void> {
    await this.queue.addBulk(jobs.map((j) => (j.concurrencyKey === undefined ? j : { name: j.name, data: j.data, options: { concurrencyKey: j.concurrencyKey } })));
  }

  async setLimits(name: string, limits: { concurrency?: number; perKeyConcurrency?: number }): Promise<void> {
    await this.queue.setLimits(name, limits);
  }

  async addFlow(parent: string, children: { name: string; data: unknown }[]): Promise<void> {
    await this.queue.addFlow({ name: parent, children });
  }

  async startWorker(names: string[], handler: BenchHandler, concurrency: number): Promise<void> {
    const handlers = Object.fromEntries(
      names.map((name) => [name, async (job: { id: string; name: string; data: unknown }, ctx: { progress(v: unknown): void }) => {
        await handler({ id: job.id, name: job.name, data: job.data as { i: number } }, (v) => ctx.progress(v));
      }]),
    );
    this.worker = this.queue.worker(handlers, { concurrency });
    await this.worker.start();
  }

  async stopWorker(): Promise<void> {
    await this.worker?.stop();
    this.worker = undefined;
  }

  async completed(name: string): Promise<number> {
    return (await this.queue.counts({ name })).completed;
  }

  unfinished(name: string): Promise<number> {
    return this.hooks.unfinished(name);
  }

  async list(name: string, limit: number): Promise<number> {
    return (await this.queue.listJobs({ name, limit })).length;
  }

  seedFinished(name: string, n: number): Promise<void> {
    return this.hooks.seedFinished(name, n);
  }

  async traffic(): Promise<Traffic> {
    const s = this.queue.stats();
    return { statements: s.statements, roundTrips: s.roundTrips };
  }

  /** The wire count, where the session was opened through the wire counter (PostgreSQL). */
  wireTraffic(): Traffic | null {
    return this.hooks.wire?.() ?? null;
  }

  async close(): Promise<void> {
    await this.stopWorker();
    await this.queue.close();
    await this.hooks.cleanup();
  }
}

/** Runs one job of `name` to completion through the API: the row W7 copies a million times. */
export async function completeOneJob(queue: Queue, name: string): Promise<string> {
  const id = await queue.add(name, { i: -1 });
  const done = new Promise<void>((resolve) => {
    const onCompleted = (event: QueueEvent) => {
      if (event.job.id === id) {
        queue.off('completed', onCompleted);
        resolve();
      }
    };
    queue.on('completed', onCompleted);
  });
  const worker = queue.worker({ [name]: () => null });
  await worker.start();
  await done;
  await worker.stop();
  return id;
}
