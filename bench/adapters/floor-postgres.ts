import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Adapter, BenchHandler, Session, Variant } from './adapter.ts';
import { cloneRow, dropSchema, freshSchema, PG_URL, withAdmin } from '../lib/pg-admin.ts';

const WORKER = 'floor';
const LEASE_MS = 30_000;

/** Batch size and how claims and completions overlap, per variant id (`b<size>-<mode>`). */
function shape(variant: Variant): { batch: number; mode: 'pipe' | 'combined' } {
  const [, size, mode] = /^b(\d+)-(pipe|combined)$/.exec(variant.id) ?? [];
  if (!size || (mode !== 'pipe' && mode !== 'combined')) throw new Error(`floor-postgres: unknown variant ${variant.id}`);
  return { batch: Number(size), mode };
}

/**
 * The cheapest statements Spool's PostgreSQL schema allows for the same work (bench/pg-layouts.ts measured
 * the candidates): no NOTIFY, no JSON (arrays), no lease-expiry branch, only the columns a worker needs
 * returned. $1 worker, $2 now (ms), $3 lease (ms), $4 names, $5 limit.
 */
const claimSql = (S: string, p: (n: number) => string = (n) => `$${n}`) => `
  UPDATE ${S}.jobs_live j
     SET status = 'running', attempts = j.attempts + 1, processing_by = ${p(1)},
         lease_until = to_timestamp((${p(2)}::float8 + ${p(3)}) / 1000), started_at = to_timestamp(${p(2)}::float8 / 1000)
   WHERE j.id = ANY(ARRAY(
     SELECT id FROM ${S}.jobs_live
      WHERE status = 'pending' AND run_at <= to_timestamp(${p(2)}::float8 / 1000) AND name = ANY(${p(4)}::text[])
      ORDER BY priority DESC, run_at, id LIMIT ${p(5)} FOR UPDATE SKIP LOCKED))
  RETURNING j.id, j.name, j.data, j.attempts, j.max_attempts, j.backoff, j.timeout_ms`;

/** Completion: the finished rows move to jobs_done with their result. $1 ids, $2 results, $3 worker, $4 now. */
const finishCtes = (S: string) => `
  o AS MATERIALIZED (SELECT u.*, 'running'::text AS held_as, $3::text AS held_by FROM unnest($1::bigint[], $2::text[]) AS u(id, result)),
  moved AS (
    DELETE FROM ${S}.jobs_live j USING o WHERE j.id = o.id AND j.status = o.held_as AND j.processing_by = o.held_by
    RETURNING j.*, o.result AS outcome),
  ins AS (
    INSERT INTO ${S}.jobs_done (id, name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error,
                               error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key)
    SELECT id, name, data, 'completed', priority, attempts, max_attempts, backoff, timeout_ms, progress, outcome::json, error,
           error_stack, run_at, created_at, started_at, to_timestamp($4::float8 / 1000), processing_by, NULL, false, unique_key
      FROM moved
    RETURNING id)`;

/** Completion of batch k and claim of batch k + 1 in one statement (the claim's parameters follow the finish's). */
const bothSql = (S: string) => `
  WITH ${finishCtes(S)},
  claimed AS (${claimSql(S, (n) => `$${n + 2}`)})
  SELECT * FROM claimed WHERE (SELECT count(*) FROM ins) >= 0`;

const VARIANTS: Variant[] = [100, 400, 1000].flatMap((batch) => [
  {
    id: `b${batch}-pipe`,
    // W7 seeds a million rows per run: measured for the two shapes that were fastest in bench/pg-layouts.ts.
    workloads: batch === 1000 ? ['W3', 'W7'] : ['W3'],
    settings: `batches of ${batch}; one connection claims batch k + 1 while another completes batch k`,
  },
  {
    id: `b${batch}-combined`,
    workloads: batch === 400 ? ['W3', 'W7'] : ['W3'],
    settings: `batches of ${batch}; two loops, each sending "complete my batch k + claim batch k + 1" as one statement`,
  },
]);

/**
 * The history-keeping floor of Spool's PostgreSQL schema: the schema the store migrates (live jobs and
 * finished jobs in two tables, every index listing needs), driven by the cheapest statements it allows,
 * at several batch sizes and overlaps; the report takes the fastest. Every statement commits durably
 * (synchronous_commit on). No queue code, no change feed, no lease recovery: what no queue built on this
 * schema can beat while keeping every finished job listable.
 */
export const floorPostgres: Adapter = {
  id: 'floor-postgres',
  label: 'raw-SQL floor (PostgreSQL)',
  store: 'postgres',
  workloads: ['W3', 'W7'],
  variants: VARIANTS,
  counting: 'not counted (one or two statements per batch by construction)',
  notes: 'drain only; the fastest variant is the floor',
  async open(variant) {
    const { batch, mode } = shape(variant);
    const schema = freshSchema('floor');
    const S = `"${schema}"`;
    const store = await PostgresStore.open({ url: PG_URL, schema });
    const a = new pg.Client({ connectionString: PG_URL, options: '-c enable_bitmapscan=off' });
    const b = new pg.Client({ connectionString: PG_URL, options: '-c enable_bitmapscan=off' });
    await Promise.all([a.connect(), b.connect()]);
    const toJob = (name: string, data: unknown) => ({
      name, dataJson: JSON.stringify(data), priority: 0, runAt: Date.now(), maxAttempts: 3, backoff: null, timeout: null, uniqueKey: null,
    });
    type Row = { id: string; name: string; data: { i: number } };
    const claim = async (c: pg.Client, names: string[]): Promise<Row[]> =>
      (await c.query({ name: 'floor-claim', text: claimSql(S), values: [WORKER, Date.now(), LEASE_MS, names, batch] })).rows;
    const finish = async (c: pg.Client, jobs: Row[]) => {
      if (jobs.length === 0) return;
      await c.query({ name: 'floor-finish', text: `WITH ${finishCtes(S)} SELECT count(*) FROM ins`, values: [jobs.map((j) => j.id), jobs.map(() => 'null'), WORKER, Date.now()] });
    };
    const both = async (c: pg.Client, jobs: Row[], names: string[]): Promise<Row[]> =>
      (await c.query({ name: 'floor-both', text: bothSql(S), values: [jobs.map((j) => j.id), jobs.map(() => 'null'), WORKER, Date.now(), LEASE_MS, names, batch] })).rows;
    let running: Promise<unknown> | undefined;
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
        const run = async (jobs: Row[]) => {
          for (const j of jobs) await handler({ id: j.id, name: j.name, data: j.data }, () => {});
        };
        if (mode === 'pipe') {
          running = (async () => {
            let jobs = await claim(a, names);
            while (!stop && jobs.length > 0) {
              await run(jobs);
              const [next] = await Promise.all([claim(a, names), finish(b, jobs)]);
              jobs = next;
            }
            await finish(b, jobs);
          })();
        } else {
          const loop = async (c: pg.Client) => {
            let jobs = await claim(c, names);
            while (!stop && jobs.length > 0) {
              await run(jobs);
              jobs = await both(c, jobs, names);
            }
            await finish(c, jobs);
          };
          running = Promise.all([loop(a), loop(b)]);
        }
      },
      async stopWorker() {
        stop = true;
        await running;
      },
      async completed(name) {
        const { rows } = await b.query(`SELECT count(*)::int AS n FROM ${S}.jobs_done WHERE name = $1 AND status = 'completed'`, [name]);
        return rows[0].n as number;
      },
      async unfinished(name) {
        const { rows } = await b.query(`SELECT count(*)::int AS n FROM ${S}.jobs_live WHERE name = $1`, [name]);
        return rows[0].n as number;
      },
      async list() {
        throw new Error('the floor does not list');
      },
      async seedFinished(name, n) {
        const [id] = await store.enqueue({ jobs: [toJob(name, { i: -1 })], now: Date.now() });
        await a.query(
          `WITH m AS (DELETE FROM ${S}.jobs_live WHERE id = $1 RETURNING *)
           INSERT INTO ${S}.jobs_done SELECT id, name, data, 'completed', priority, 1, max_attempts, backoff, timeout_ms, progress, 'null',
                  error, error_stack, run_at, created_at, now(), now(), 'seed', NULL, false, unique_key FROM m`, [id]);
        await withAdmin((c) => cloneRow(c, schema, 'jobs_done', `id = ${Number(id)}`, n, `nextval('${S}.job_ids')`));
      },
      async traffic() {
        return null;
      },
      async close() {
        await session.stopWorker();
        await Promise.all([a.end(), b.end(), store.close()]);
        await dropSchema(schema);
      },
    };
    return session;
  },
};
