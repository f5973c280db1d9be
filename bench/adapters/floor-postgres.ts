import pg from 'pg';
import { channelName, PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { buildStatements } from '../../src/store/postgres/statements.ts';
import type { Adapter, BenchHandler, Session } from './adapter.ts';
import { cloneRow, dropSchema, freshSchema, PG_URL, withAdmin } from '../lib/pg-admin.ts';

const BATCH = 100;
const WORKER = 'floor';

/**
 * The raw-SQL floor of Spool's PostgreSQL design: the store's own schema (migrated by the store) and its own
 * claim and finish statements (NOTIFY included), issued directly in batches of 100 on two connections so
 * that completing one batch overlaps claiming the next. Every statement commits durably (synchronous_commit
 * on). No queue code: the limit of this design on this machine.
 */
export const floorPostgres: Adapter = {
  id: 'floor-postgres',
  label: 'raw-SQL floor (PostgreSQL)',
  store: 'postgres',
  workloads: ['W3', 'W7'],
  variants: [{ id: 'batch100', settings: "Spool's claim and finish statements, 100 jobs each, overlapped on two connections; prepared; synchronous_commit on; concurrency not used" }],
  counting: 'not counted (two statements per 100 jobs by construction)',
  notes: 'drain only',
  async open() {
    const schema = freshSchema('floor');
    const t = `"${schema}".jobs`;
    const store = await PostgresStore.open({ url: PG_URL, schema });
    const sql = buildStatements(schema, channelName(schema));
    const claimer = new pg.Client({ connectionString: PG_URL, options: '-c enable_bitmapscan=off' });
    const completer = new pg.Client({ connectionString: PG_URL, options: '-c enable_bitmapscan=off' });
    await Promise.all([claimer.connect(), completer.connect()]);
    const toJob = (name: string, data: unknown) => ({
      name, dataJson: JSON.stringify(data), priority: 0, runAt: Date.now(), maxAttempts: 3, backoff: null, timeout: null, uniqueKey: null,
    });
    const completed = (ids: string[]) =>
      JSON.stringify(ids.map((id) => ({ id, status: 'completed', result: 'null', progress: null, error: null, error_stack: null, run_at: null })));
    let running: Promise<void> | undefined;
    let stop = false;

    const session: Session = {
      async add(name, data) {
        await store.enqueue({ jobs: [toJob(name, data)], now: Date.now() });
      },
      async addBulk(jobs) {
        await store.enqueue({ jobs: jobs.map((j) => toJob(j.name, j.data)), now: Date.now() });
      },
      async startWorker(names, handler: BenchHandler) {
        stop = false;
        const claim = async () => {
          const now = Date.now();
          const { rows } = await claimer.query({ ...sql.claim, values: ['[]', WORKER, now, now + 30_000, names, BATCH] });
          return rows as { id: string; name: string; data: { i: number } }[];
        };
        const complete = async (ids: string[]) => {
          if (ids.length > 0) await completer.query({ ...sql.finish, values: [completed(ids), WORKER, Date.now()] });
        };
        running = (async () => {
          let jobs = await claim();
          while (!stop && jobs.length > 0) {
            for (const j of jobs) await handler({ id: j.id, name: j.name, data: j.data }, () => {});
            const [next] = await Promise.all([claim(), complete(jobs.map((j) => j.id))]);
            jobs = next;
          }
        })();
      },
      async stopWorker() {
        stop = true;
        await running;
      },
      async completed(name) {
        const { rows } = await completer.query(`SELECT count(*)::int AS n FROM ${t} WHERE name = $1 AND status = 'completed'`, [name]);
        return rows[0].n as number;
      },
      async unfinished(name) {
        const { rows } = await completer.query(`SELECT count(*)::int AS n FROM ${t} WHERE status IN ('pending', 'running') AND name = $1`, [name]);
        return rows[0].n as number;
      },
      async list() {
        throw new Error('the floor does not list');
      },
      async seedFinished(name, n) {
        const [id] = await store.enqueue({ jobs: [toJob(name, { i: -1 })], now: Date.now() });
        await claimer.query(`UPDATE ${t} SET status = 'completed', attempts = 1, completed_at = now(), result = 'null' WHERE id = $1`, [id]);
        await withAdmin((c) => cloneRow(c, schema, 'jobs', `id = ${Number(id)}`, n));
      },
      async traffic() {
        return null;
      },
      async close() {
        await session.stopWorker();
        await Promise.all([claimer.end(), completer.end(), store.close()]);
        await dropSchema(schema);
      },
    };
    return session;
  },
};
