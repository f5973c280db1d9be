import { createPostgresBackend, type Job, withBackend } from 'bullmq';
import pg from 'pg';
import type { Adapter, BenchHandler, Session, Variant } from './adapter.ts';
import { cloneRow, dropSchema, freshSchema, PG_URL, pgTarget, pgUrlViaPort, withAdmin } from '../lib/pg-admin.ts';
import { PgWireCounter } from '../lib/pg-wire-counter.ts';

const QUEUE = 'bench';
const { Queue, Worker } = withBackend(createPostgresBackend);

/** States a job is still to run in: each has a partial index, so counting them stays cheap on W7's big table. */
const UNFINISHED = ['waiting', 'active', 'delayed', 'waiting-children'];

/** BullMQ has no listing by name: pages of 100 waiting jobs, filtered here (what the Redis adapter does too). */
async function listByName(queue: { getJobs(types: 'waiting'[], start: number, end: number): Promise<(Job | undefined)[]> }, name: string, limit: number): Promise<number> {
  let found = 0;
  for (let start = 0; found < limit; start += 100) {
    const page = await queue.getJobs(['waiting'], start, start + 99);
    if (page.length === 0) break;
    for (const job of page) if (job?.name === name && found < limit) found++;
  }
  return found;
}

/**
 * BullMQ 6.7 on PostgreSQL (`createPostgresBackend`): the same Queue/Worker API as on Redis, one `job` table
 * with state-scoped partial indexes, SQL functions per operation, and a completion fused with the next claim
 * (one statement and one commit per job). Settings from its guide (docs/gitbook/guide/postgresql.md):
 * "size the pool" and "let retention do its work" (removeOnComplete); `synchronous_commit = off`, which it
 * also suggests, is left out as it is for every system here (durable commits only).
 */
export const bullmqPostgres: Adapter = {
  id: 'bullmq-postgres',
  label: 'BullMQ (PostgreSQL)',
  store: 'postgres',
  workloads: ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8'],
  variants: [
    { id: 'default', settings: 'Queue/Worker defaults (pg pool of 10, completed jobs kept); concurrency as the workload sets it' },
    {
      id: 'fast',
      workloads: ['W3', 'W4', 'W5', 'W7'],
      settings: 'its guide\'s tuning: pool sized to the concurrency (max = concurrency + 2, at most 40) and removeOnComplete { count: 0 } (finished jobs deleted, no history)',
    },
  ],
  counting: 'at the wire: a TCP proxy counting frontend Query/Execute (statements) and Query/Sync (round trips) messages, its LISTEN connection included',
  notes: 'progress: job.updateProgress() (one statement per call, its API); listing: queue.getJobs(["waiting"]) in pages of 100 filtered by name, as on Redis (no listing by name)',
  async open(variant: Variant, options) {
    const schema = freshSchema('bullmqpg');
    const wire = options.count ? new PgWireCounter(pgTarget()) : undefined;
    const connectionString = wire ? pgUrlViaPort(await wire.start()) : PG_URL;
    const fast = variant.id === 'fast';
    const connection = (poolMax?: number) => ({ connectionString, schema, migrate: true, ...(poolMax ? { max: poolMax } : {}) });
    const queue = new Queue(QUEUE, { connection: connection() });
    queue.on('error', (error) => console.error(`bullmq-postgres queue: ${error.message}`));
    await queue.waitUntilReady();
    const reader = new pg.Client({ connectionString: PG_URL });
    await reader.connect();
    let worker: { close(): Promise<void> } | undefined;
    let added = 0;

    const unfinished = async (name: string): Promise<number> => {
      const { rows } = await reader.query(
        UNFINISHED.map((state) => `SELECT count(*)::int AS n FROM "${schema}".job WHERE queue = $1 AND state = '${state}' AND name = $2`).join(' UNION ALL '),
        [QUEUE, name],
      );
      return (rows as { n: number }[]).reduce((sum, r) => sum + r.n, 0);
    };

    const session: Session = {
      async add(name, data) {
        await queue.add(name, data);
        added++;
      },
      async addBulk(jobs) {
        await queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data })));
        added += jobs.length;
      },
      async startWorker(names, handler: BenchHandler, concurrency) {
        const wanted = new Set(names);
        const w = new Worker(
          QUEUE,
          async (job: Job) => {
            if (!wanted.has(job.name)) throw new Error(`no handler for ${job.name}`);
            await handler({ id: String(job.id), name: job.name, data: job.data }, (v) => job.updateProgress(v as object));
          },
          {
            connection: connection(fast ? Math.min(40, concurrency + 2) : undefined),
            concurrency,
            ...(fast ? { removeOnComplete: { count: 0 } } : {}),
          },
        );
        w.on('error', (error) => console.error(`bullmq-postgres worker: ${error.message}`));
        worker = w;
        await w.waitUntilReady();
      },
      async stopWorker() {
        await worker?.close();
        worker = undefined;
      },
      async completed(name) {
        // With removeOnComplete nothing is kept to count: completed = added − still to run (failed: none here).
        if (fast) return added - (await unfinished(name));
        return (await queue.getJobCounts('completed')).completed ?? 0;
      },
      unfinished,
      list: (name, limit) => listByName(queue, name, limit),
      // The same listing from a second Queue whose connections go through a wire counter.
      async listTraffic(name, limit) {
        const counter = new PgWireCounter(pgTarget());
        const counted = new Queue(QUEUE, { connection: { connectionString: pgUrlViaPort(await counter.start()), schema } });
        try {
          await counted.waitUntilReady();
          const before = counter.snapshot();
          await listByName(counted, name, limit);
          const after = counter.snapshot();
          return { statements: after.statements - before.statements, roundTrips: after.roundTrips - before.roundTrips };
        } finally {
          await counted.close();
          await counter.stop();
        }
      },
      async seedFinished(name, n) {
        const id = await new Promise<string>((resolve) => {
          const w = new Worker(QUEUE, async () => null, { connection: connection() });
          w.on('completed', (job) => void w.close().then(() => resolve(String(job.id))));
          void queue.add(name, { i: -1 });
        });
        await withAdmin((c) => cloneRow(c, schema, 'job', `queue = '${QUEUE}' AND id = '${id.replace(/'/g, "''")}'`, n, `'seed-' || generate_series`));
        added += 1 + n;
      },
      async traffic() {
        return wire ? wire.snapshot() : null;
      },
      async close() {
        await worker?.close();
        await queue.close();
        await reader.end();
        await wire?.stop();
        await dropSchema(schema);
      },
    };
    return session;
  },
};
