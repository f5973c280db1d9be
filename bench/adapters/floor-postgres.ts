import pg from 'pg';
import type { Adapter, BenchHandler, Session } from './adapter.ts';
import { cloneRow, dropSchema, freshSchema, PG_URL, withAdmin } from '../lib/pg-admin.ts';

const BATCH = 100;
const WORKER = 'floor';

/**
 * The raw-SQL floor of the PostgreSQL design: a jobs table with a partial index of runnable rows, a claim of
 * 100 with FOR UPDATE SKIP LOCKED and a completion of 100 with one UPDATE … FROM unnest, issued directly on
 * two connections so that completing one batch overlaps claiming the next. Every statement commits durably
 * (synchronous_commit on). No queue code: the limit of this design on this machine.
 *
 * The SQL is written here to the design of DESIGN.md, since the PostgreSQL store is still on its branch;
 * once it lands, this floor should issue that store's claim and finish statements instead.
 */
export const floorPostgres: Adapter = {
  id: 'floor-postgres',
  label: 'raw-SQL floor (PostgreSQL)',
  store: 'postgres',
  workloads: ['W3', 'W7'],
  variants: [{ id: 'batch100', settings: 'claim 100 (SKIP LOCKED) and complete 100 (UPDATE … FROM unnest) overlapped on two connections; prepared; synchronous_commit on; concurrency not used' }],
  counting: 'not counted (two statements per 100 jobs by construction)',
  notes: 'drain only',
  async open() {
    const schema = freshSchema('floor');
    const t = `"${schema}".jobs`;
    await withAdmin(async (c) => {
      await c.query(`CREATE SCHEMA "${schema}"`);
      await c.query(`CREATE TABLE ${t} (
        id bigserial PRIMARY KEY, name text NOT NULL, data jsonb NOT NULL, status text NOT NULL DEFAULT 'pending',
        priority int NOT NULL DEFAULT 0, attempts int NOT NULL DEFAULT 0, max_attempts int NOT NULL DEFAULT 3,
        run_at timestamptz NOT NULL DEFAULT now(), created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz, completed_at timestamptz, lease_until timestamptz, processing_by text, result jsonb)`);
      await c.query(`CREATE INDEX ON ${t} (priority DESC, run_at, id) WHERE status = 'pending'`);
      await c.query(`CREATE INDEX ON ${t} (lease_until) WHERE status = 'running'`);
      await c.query(`CREATE INDEX ON ${t} (name, id)`);
    });
    const claimer = new pg.Client({ connectionString: PG_URL });
    const completer = new pg.Client({ connectionString: PG_URL });
    await Promise.all([claimer.connect(), completer.connect()]);
    const claimSql = {
      name: 'floor-claim',
      text: `UPDATE ${t} SET status = 'running', attempts = attempts + 1, processing_by = $1, started_at = now(),
                    lease_until = now() + interval '30 seconds'
              WHERE id IN (SELECT id FROM ${t} WHERE status = 'pending' AND run_at <= now() AND name = ANY($2)
                            ORDER BY priority DESC, run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
              RETURNING id, name, data`,
    };
    const completeSql = {
      name: 'floor-complete',
      text: `UPDATE ${t} AS j SET status = 'completed', result = 'null', completed_at = now(), lease_until = NULL
               FROM unnest($1::bigint[]) AS o(id)
              WHERE j.id = o.id AND j.status = 'running' AND j.processing_by = $2`,
    };
    const insertSql = `INSERT INTO ${t} (name, data) SELECT * FROM unnest($1::text[], $2::jsonb[]) RETURNING id`;
    let running: Promise<void> | undefined;
    let stop = false;

    const session: Session = {
      async add(name, data) {
        await claimer.query(insertSql, [[name], [JSON.stringify(data)]]);
      },
      async addBulk(jobs) {
        await claimer.query(insertSql, [jobs.map((j) => j.name), jobs.map((j) => JSON.stringify(j.data))]);
      },
      async startWorker(names, handler: BenchHandler) {
        stop = false;
        const claim = async () => (await claimer.query({ ...claimSql, values: [WORKER, names, BATCH] })).rows as { id: string; name: string; data: { i: number } }[];
        const complete = async (ids: string[]) => {
          if (ids.length > 0) await completer.query({ ...completeSql, values: [ids, WORKER] });
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
        const { rows } = await claimer.query(insertSql, [[name], ['{"i":-1}']]);
        const id = rows[0].id as string;
        await claimer.query(`UPDATE ${t} SET status = 'completed', attempts = 1, completed_at = now(), result = 'null' WHERE id = $1`, [id]);
        await withAdmin((c) => cloneRow(c, schema, 'jobs', `id = ${Number(id)}`, n));
      },
      async traffic() {
        return null;
      },
      async close() {
        await session.stopWorker();
        await Promise.all([claimer.end(), completer.end()]);
        await dropSchema(schema);
      },
    };
    return session;
  },
};
