import PgBoss from 'pg-boss';
import type { Adapter, BenchHandler, Session, Variant } from './adapter.ts';
import { cloneRow, dropSchema, freshSchema, PG_URL, pgTarget, pgUrlViaPort, withAdmin } from '../lib/pg-admin.ts';
import { PgWireCounter } from '../lib/pg-wire-counter.ts';

/** pg-boss has no progress API (10.x): users write a row per update; this is that row. */
const PROGRESS_TABLE = (schema: string) => `"${schema}".bench_progress`;

/**
 * pg-boss 10 (the newest line that runs on Node 20). "Concurrency" is that many work() calls (10.x has no
 * localConcurrency); each worker fetches batchSize jobs, runs them, completes them in one statement, and
 * sleeps until pollingInterval has passed since its fetch.
 */
export const pgBoss: Adapter = {
  id: 'pg-boss',
  label: 'pg-boss',
  store: 'postgres',
  workloads: ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8'],
  variants: [
    { id: 'default', settings: 'defaults: batchSize 1, pollingIntervalSeconds 2; one work() call per unit of concurrency' },
    { id: 'fast', workloads: ['W3', 'W4', 'W5', 'W7'], settings: 'batchSize 5000, pollingIntervalSeconds 0.5 (its minimum); one work() call per unit of concurrency' },
  ],
  counting: 'at the wire: a TCP proxy counting frontend Query/Execute (statements) and Query/Sync (round trips) messages, its supervision and polling included',
  notes: 'progress: no API in 10.x, so one UPSERT per progress call into a side table (what its users do); listing: SQL on its job table (one query, newest first)',
  async open(variant: Variant, options) {
    const schema = freshSchema('pgboss');
    const wire = options.count ? new PgWireCounter(pgTarget()) : undefined;
    const connectionString = wire ? pgUrlViaPort(await wire.start()) : PG_URL;
    const boss = new PgBoss({ connectionString, schema });
    boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
    await boss.start();
    const db = boss.getDb();
    await db.executeSql(`CREATE TABLE ${PROGRESS_TABLE(schema)} (job_id uuid PRIMARY KEY, progress jsonb)`, []);
    const queues = new Set<string>();
    const ensureQueue = async (name: string) => {
      if (!queues.has(name)) {
        await boss.createQueue(name);
        queues.add(name);
      }
    };
    const workerIds: string[] = [];
    const fast = variant.id === 'fast';

    const session: Session = {
      async add(name, data) {
        await ensureQueue(name);
        await boss.send(name, data);
      },
      async addBulk(jobs) {
        for (const name of new Set(jobs.map((j) => j.name))) await ensureQueue(name);
        await boss.insert(jobs.map((j) => ({ name: j.name, data: j.data })));
      },
      async startWorker(names, handler: BenchHandler, concurrency) {
        const progressSql = `INSERT INTO ${PROGRESS_TABLE(schema)} (job_id, progress) VALUES ($1, $2)
                             ON CONFLICT (job_id) DO UPDATE SET progress = excluded.progress`;
        for (const name of names) {
          await ensureQueue(name);
          for (let i = 0; i < concurrency; i++) {
            const work = async (jobs: PgBoss.Job<object>[]) => {
              await Promise.all(
                jobs.map((job) =>
                  handler({ id: job.id, name: job.name, data: job.data as { i: number } }, async (v) => {
                    await db.executeSql(progressSql, [job.id, JSON.stringify(v)]);
                  }),
                ),
              );
            };
            workerIds.push(
              fast ? await boss.work(name, { batchSize: 5000, pollingIntervalSeconds: 0.5 }, work) : await boss.work(name, work),
            );
          }
        }
      },
      async stopWorker() {
        await Promise.all(workerIds.splice(0).map((id) => boss.offWork({ id })));
      },
      async completed(name) {
        const { rows } = await db.executeSql(`SELECT count(*)::int AS n FROM "${schema}".job WHERE name = $1 AND state = 'completed'`, [name]);
        return rows[0].n as number;
      },
      // Not cheap on W7's big table: its active rows have no index, so this scans the queue's partition.
      async unfinished(name) {
        const { rows } = await db.executeSql(`SELECT count(*)::int AS n FROM "${schema}".job WHERE name = $1 AND state < 'completed'`, [name]);
        return rows[0].n as number;
      },
      async list(name, limit) {
        const { rows } = await db.executeSql(`SELECT * FROM "${schema}".job WHERE name = $1 ORDER BY created_on DESC LIMIT $2`, [name, limit]);
        return rows.length;
      },
      async seedFinished(name, n) {
        await ensureQueue(name);
        const id = await boss.send(name, { i: -1 });
        const done = new Promise<void>((resolve) => void boss.work(name, { pollingIntervalSeconds: 0.5 }, async () => resolve()));
        await done;
        await boss.offWork(name);
        // Completion is written after the handler resolves: wait for the row to say so.
        for (;;) {
          const { rows } = await db.executeSql(`SELECT state FROM "${schema}".job WHERE id = $1`, [id]);
          if (rows[0]?.state === 'completed') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await withAdmin((client) => cloneRow(client, schema, 'job', `id = '${id}'`, n));
      },
      async traffic() {
        return wire ? wire.snapshot() : null;
      },
      async close() {
        await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
        await wire?.stop();
        await dropSchema(schema);
      },
    };
    return session;
  },
};
