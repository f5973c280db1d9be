import { Logger, makeWorkerUtils, run, type Runner, type Task, type WorkerUtils } from 'graphile-worker';
import type { Adapter, BenchHandler, Session, Variant } from './adapter.ts';
import { cloneRow, dropSchema, freshSchema, PG_URL, pgTarget, pgUrlViaPort, withAdmin } from '../lib/pg-admin.ts';
import { PgWireCounter } from '../lib/pg-wire-counter.ts';

const SEED_ERROR = 'seed: fails for good';

// Errors only, and not the failures W7's seeding causes on purpose.
const quiet = new Logger(() => (level, message) => {
  if (level === 'error' && !message.includes(SEED_ERROR)) console.error(`graphile-worker: ${message}`);
});

/**
 * graphile-worker 0.17 (the newest that runs on Node 20). It deletes a job when it completes, so "completed"
 * is jobs added minus jobs left that can still run; the jobs that stay in its table are permanently failed
 * ones (attempts = max_attempts), which is what W7 fills it with.
 */
export const graphileWorker: Adapter = {
  id: 'graphile-worker',
  label: 'graphile-worker',
  store: 'postgres',
  workloads: ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8'],
  variants: [
    { id: 'default', settings: 'run() defaults: no local queue, completion per job, pollInterval 2000 (LISTEN/NOTIFY wakes it)' },
    { id: 'fast', workloads: ['W3', 'W4', 'W5', 'W7'], settings: 'localQueue.size 500, completeJobBatchDelay 0 and failJobBatchDelay 0 (batched completion), per its performance guide' },
  ],
  counting: 'at the wire: a TCP proxy counting frontend Query/Execute (statements) and Query/Sync (round trips) messages, its LISTEN connection included',
  notes: 'progress: no API, so one UPSERT per progress call into a side table through helpers.query (what its users do); listing: SQL on its jobs view (one query, newest first); finished jobs are deleted, so W7 fills its table with permanently failed jobs',
  async open(variant: Variant, options) {
    const schema = freshSchema('graphile');
    const wire = options.count ? new PgWireCounter(pgTarget()) : undefined;
    const connectionString = wire ? pgUrlViaPort(await wire.start()) : PG_URL;
    const utils: WorkerUtils = await makeWorkerUtils({ connectionString, schema, logger: quiet });
    await utils.migrate();
    await utils.withPgClient((c) => c.query(`CREATE TABLE "${schema}".bench_progress (job_id bigint PRIMARY KEY, progress jsonb)`));
    let runner: Runner | undefined;
    const preset =
      variant.id === 'fast' ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } : undefined;

    const startRunner = async (taskList: Record<string, Task>, concurrency: number) => {
      runner = await run({ connectionString, schema, concurrency, noHandleSignals: true, logger: quiet, taskList, ...(preset ? { preset } : {}) });
    };

    const session: Session = {
      async add(name, data) {
        await utils.addJob(name, data);
      },
      async addBulk(jobs) {
        await utils.addJobs(jobs.map((j) => ({ identifier: j.name, payload: j.data })));
      },
      async startWorker(names, handler: BenchHandler, concurrency) {
        const progressSql = `INSERT INTO "${schema}".bench_progress (job_id, progress) VALUES ($1, $2)
                             ON CONFLICT (job_id) DO UPDATE SET progress = excluded.progress`;
        const task: Task = async (payload, helpers) => {
          await handler({ id: helpers.job.id, name: helpers.job.task_identifier, data: payload as { i: number } }, async (v) => {
            await helpers.query(progressSql, [helpers.job.id, JSON.stringify(v)]);
          });
        };
        await startRunner(Object.fromEntries(names.map((n) => [n, task])), concurrency);
      },
      async stopWorker() {
        await runner?.stop();
        runner = undefined;
      },
      async completed(name, added) {
        const left = await utils.withPgClient((c) =>
          c.query(`SELECT count(*)::int AS n FROM "${schema}".jobs WHERE task_identifier = $1 AND attempts < max_attempts`, [name]),
        );
        return added - (left.rows[0].n as number);
      },
      // Jobs left that can still run (failed-for-good ones excluded); scans, as graphile indexes only available rows.
      async unfinished(name) {
        const left = await utils.withPgClient((c) =>
          c.query(`SELECT count(*)::int AS n FROM "${schema}".jobs WHERE task_identifier = $1 AND attempts < max_attempts`, [name]),
        );
        return left.rows[0].n as number;
      },
      async list(name, limit) {
        const { rows } = await utils.withPgClient((c) =>
          c.query(`SELECT * FROM "${schema}".jobs WHERE task_identifier = $1 ORDER BY id DESC LIMIT $2`, [name, limit]),
        );
        return rows.length;
      },
      async seedFinished(name, n) {
        const job = await utils.addJob(name, { i: -1 }, { maxAttempts: 1 });
        await startRunner({ [name]: async () => { throw new Error(SEED_ERROR); } }, 1);
        // Wait for the row to show the permanent failure (attempts = max_attempts, unlocked).
        for (;;) {
          const { rows } = await utils.withPgClient((c) =>
            c.query(`SELECT attempts, max_attempts, locked_at FROM "${schema}".jobs WHERE id = $1`, [job.id]),
          );
          if (rows[0] && rows[0].attempts >= rows[0].max_attempts && rows[0].locked_at === null) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await runner!.stop();
        runner = undefined;
        await withAdmin((client) => cloneRow(client, schema, '_private_jobs', `id = ${Number(job.id)}`, n));
      },
      async traffic() {
        return wire ? wire.snapshot() : null;
      },
      async close() {
        await runner?.stop();
        await utils.release();
        await wire?.stop();
        await dropSchema(schema);
      },
    };
    return session;
  },
};
