// Raw-SQL comparison of PostgreSQL table layouts and statements for Spool's claim + completion work: which
// layout keeps history and drains fastest. No queue code: each candidate is a schema and the statements
// that claim and complete jobs on it, driven the way a worker would.
//
//   npx tsx bench/pg-layouts.ts [--url postgres://…] [--jobs 20000] [--batches 100,400,1000] [--reps 3]
//                               [--only store,split] [--modes pipe,combined] [--prefill 0] [--explain] [--listen]
//
// Two drive modes, both on two connections:
//   pipe      one connection claims batch k+1 while the other completes batch k (the floor's shape);
//   combined  two loops, each sending "complete my batch k + claim batch k+1" as ONE statement.
// Candidates and modes are interleaved and repeated (the machine is shared): compare within a round.
// Per run: jobs/s, WAL bytes per job (server-wide: use a private server), heap tuples written per job
// (inserts + updates + deletes, and how many updates were HOT), backend and node CPU per job, and, where
// pg_stat_statements is loaded, mean time per statement. Never part of npm test.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { channelName } from '../src/store/postgres/postgres-store.ts';
import { migrate } from '../src/store/postgres/schema.ts';
import { buildStatements } from '../src/store/postgres/statements.ts';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    jobs: { type: 'string', default: '20000' },
    batches: { type: 'string', default: '100,400,1000' },
    reps: { type: 'string', default: '3' },
    only: { type: 'string' },
    modes: { type: 'string', default: 'pipe,combined' },
    prefill: { type: 'string', default: '0' },
    analyze: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    listen: { type: 'boolean', default: false },
  },
});
const URL_ = args.url!;
const JOBS = Number(args.jobs);
const BATCHES = args.batches!.split(',').map(Number);
const REPS = Number(args.reps);
const MODES = args.modes!.split(',') as Mode[];
const PREFILL = Number(args.prefill);
const WORKER = 'w1';
const LEASE_MS = 30_000;
type Mode = 'pipe' | 'combined';

/** A claimed job as the worker needs it. */
interface Claimed { id: string; name: string; data: unknown }

/** One layout and its statements. `S` is the quoted schema. */
interface Candidate {
  id: string;
  what: string;
  /** Creates the tables (the schema exists). */
  setup(c: pg.Client, schema: string): Promise<void>;
  /** Tables whose tuple counters to read. */
  tables: string[];
  /** Inserts `n` pending jobs named 'noop' (not timed). */
  fill(c: pg.Client, S: string, n: number): Promise<void>;
  claim(c: pg.Client, S: string, limit: number): Promise<Claimed[]>;
  finish(c: pg.Client, S: string, jobs: Claimed[]): Promise<void>;
  /** Completes `jobs` and claims up to `limit` more in one statement. */
  both(c: pg.Client, S: string, jobs: Claimed[], limit: number): Promise<Claimed[]>;
  /** Statements to EXPLAIN: [label, text, values]. */
  explain?(S: string, ids: string[]): [string, string, unknown[]][];
}

const ts = (p: string) => `to_timestamp(${p}::float8 / 1000)`;
const COLS = `
    name             text        NOT NULL,
    data             json        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',
    priority         integer     NOT NULL DEFAULT 0,
    attempts         integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL,
    backoff          json,
    timeout_ms       integer,
    progress         json,
    result           json,
    error            text,
    error_stack      text,
    run_at           timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    completed_at     timestamptz,
    processing_by    text,
    lease_until      timestamptz,
    cancel_requested boolean     NOT NULL DEFAULT false,
    unique_key       text`;
const COL_NAMES = 'name, data, status, priority, attempts, max_attempts, backoff, timeout_ms, progress, result, error, error_stack, run_at, created_at, started_at, completed_at, processing_by, lease_until, cancel_requested, unique_key';
const RETURNED = 'id, name, data, attempts, max_attempts, backoff, timeout_ms';

async function fillPlain(c: pg.Client, table: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const m = Math.min(1000, n - i);
    await c.query(
      `INSERT INTO ${table} (name, data, max_attempts, run_at, created_at)
       SELECT 'noop', json_build_object('i', g), 3, now(), now() FROM generate_series($1::int, $2::int) g`,
      [i, i + m - 1],
    );
  }
}

const ids = (jobs: Claimed[]) => jobs.map((j) => j.id);
const results = (jobs: Claimed[]) => jobs.map(() => 'null');

/** The claim of one table `T` with a pending partial index: lock the ids first, then update by primary key. */
const plainClaim = (T: string, extra = '') => `
  UPDATE ${T} j SET status = 'running', attempts = j.attempts + 1, processing_by = $1,
                    lease_until = ${ts('($2 + $3)')}, started_at = ${ts('$2')}${extra}
   WHERE j.id = ANY(ARRAY(
     SELECT id FROM ${T} WHERE status = 'pending' AND run_at <= ${ts('$2')} AND name = ANY($4::text[])
      ORDER BY priority DESC, run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED))
  RETURNING ${RETURNED.split(', ').map((c) => `j.${c}`).join(', ')}`;

/**
 * The store's own migration and statements (JSON recordsets, lease-expiry branch, NOTIFY, every column
 * returned), optionally rewritten by `edit` to price one of those parts.
 */
function store(id: string, what: string, edit: (text: string) => string = (t) => t): Candidate {
  const sql = (S: string) => statementsOf(S, edit);
  return {
    id,
    what,
    tables: ['jobs_live', 'jobs_done'],
    async setup(c, schema) {
      await migrate(c, schema);
    },
    fill: (c, S, n) => fillPlain(c, `${S}.jobs_live`, n),
    claim: (c, S, limit) => storeClaim(c, sql(S), [], limit),
    async finish(c, S, jobs) {
      await c.query({ ...sql(S).finish, values: ['[]', WORKER, Date.now(), ...completions(jobs)] });
    },
    both: (c, S, jobs, limit) => storeClaim(c, sql(S), jobs, limit),
    explain: (S, some) => {
      const now = Date.now();
      return [
        ['claim', sql(S).claim.text, ['[]', WORKER, now, now + LEASE_MS, ['noop'], 400, [], [], []]],
        ['finish', sql(S).finish.text, ['[]', WORKER, now, ...completions(some.map((id) => ({ id, name: 'noop', data: null })))]],
      ];
    },
  };
}
const today = store('store', "the store's schema and statements");
/** The payload is still built, but not sent. */
const storeNoNotify = store('store-nonotify', 'the store, its NOTIFY not sent (payload still built)', (t) => t.replace(/pg_notify\('[^']+', /g, '('));
/** No payload built, nothing sent: the change feed's whole cost. */
const storeNoFeed = store('store-nofeed', 'the store without its change feed (no payload, no NOTIFY)', (t) =>
  t.replace(/ev_groups AS \([\s\S]*?WHERE full_text IS NOT NULL\)/, 'note AS (SELECT 1 AS sent)'));

const statementCache = new Map<string, ReturnType<typeof buildStatements>>();
function statementsOf(S: string, edit: (text: string) => string = (t) => t) {
  const schema = S.slice(1, -1);
  let sql = statementCache.get(schema);
  if (!sql) {
    sql = buildStatements(schema, channelName(schema));
    for (const key of ['claim', 'finish'] as const) sql[key] = { ...sql[key], text: edit(sql[key].text) };
    statementCache.set(schema, sql);
  }
  return sql;
}
/** Completions as the store sends them: ids, result texts, progress texts. */
const completions = (jobs: Claimed[]) => [jobs.map((j) => j.id), jobs.map(() => 'null'), jobs.map(() => null)];
async function storeClaim(c: pg.Client, sql: ReturnType<typeof buildStatements>, finish: Claimed[], limit: number): Promise<Claimed[]> {
  const now = Date.now();
  const { rows } = await c.query({ ...sql.claim, values: ['[]', WORKER, now, now + LEASE_MS, ['noop'], limit, ...completions(finish)] });
  return (rows as (Claimed & { fin: boolean })[]).filter((r) => !r.fin);
}

/** One table, plain statements: arrays instead of JSON, no NOTIFY, no lease CTE. */
function oneTable(id: string, what: string, ddl: (S: string) => string, finishSql: (S: string) => string, claimSql = (S: string) => plainClaim(`${S}.jobs`)): Candidate {
  return {
    id,
    what,
    tables: ['jobs'],
    async setup(c, schema) {
      await c.query(ddl(`"${schema}"`));
    },
    fill: (c, S, n) => fillPlain(c, `${S}.jobs`, n),
    async claim(c, S, limit) {
      const now = Date.now();
      return (await c.query({ name: `${S}:claim`, text: claimSql(S), values: [WORKER, now, LEASE_MS, ['noop'], limit] })).rows;
    },
    async finish(c, S, jobs) {
      await c.query({ name: `${S}:finish`, text: finishSql(S), values: [ids(jobs), results(jobs), WORKER, Date.now()] });
    },
    async both(c, S, jobs, limit) {
      const text = `
        WITH fin AS (${finishSql(S)}),
        claimed AS (${claimAfterFinish(claimSql(S))})
        SELECT * FROM claimed WHERE (SELECT count(*) FROM fin) >= 0`;
      return (await c.query({ name: `${S}:both`, text, values: bothValues(jobs, Date.now(), limit) })).rows;
    },
    explain: (S, some) => [
      ['claim', claimSql(S), [WORKER, Date.now(), LEASE_MS, ['noop'], 400]],
      ['finish', finishSql(S), [some, some.map(() => 'null'), WORKER, Date.now()]],
    ],
  };
}

/*
 * In `both` statements the parameters are: $1 ids, $2 results, $3 worker, $4 now (finish), then the claim's
 * own: the claim text is renumbered so $1..$5 become $3 (worker), $4 (now), $5 lease, $6 names, $7 limit.
 */
function bothValues(jobs: Claimed[], now: number, limit: number): unknown[] {
  return [ids(jobs), results(jobs), WORKER, now, LEASE_MS, ['noop'], limit];
}
/** A claim statement renumbered for use after a finish's four parameters. */
const claimAfterFinish = (claim: string) =>
  claim.replace(/\$(\d)/g, (_, d: string) => `$${{ 1: 3, 2: 4, 3: 5, 4: 6, 5: 7 }[Number(d) as 1 | 2 | 3 | 4 | 5]}`);

const TODAY_DDL = (S: string, withLists: boolean, table = 'jobs') => `
  CREATE TABLE ${S}.${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ${COLS});
  CREATE INDEX ON ${S}.${table} (priority DESC, run_at, id) WHERE status = 'pending';
  CREATE INDEX ON ${S}.${table} (lease_until) WHERE status = 'running';
  CREATE UNIQUE INDEX ON ${S}.${table} (unique_key) WHERE unique_key IS NOT NULL AND status IN ('pending', 'running');
  ${withLists ? `CREATE INDEX ON ${S}.${table} (status, id); CREATE INDEX ON ${S}.${table} (name, id);` : ''}`;

/*
 * Batch updates join from the batch to the primary key. The guard is stated against columns of a
 * MATERIALIZED batch (as the store does): with constants and no statistics the planner drove the join from
 * the (status, id) index and re-ran unnest() for every row, O(batch²): 32 ms for 400 (--explain).
 */
const batchCte = `o AS MATERIALIZED (SELECT u.*, 'running'::text AS held_as, $3::text AS held_by FROM unnest($1::bigint[], $2::text[]) AS u(id, result))`;
const updateFinish = (S: string) => `
  WITH ${batchCte}
  UPDATE ${S}.jobs j SET status = 'completed', result = o.result::json, completed_at = ${ts('$4')}, lease_until = NULL
    FROM o WHERE j.id = o.id AND j.status = o.held_as AND j.processing_by = o.held_by
  RETURNING j.id`;

const plain = oneTable('plain', "today's schema, plain statements", (S) => TODAY_DDL(S, true), updateFinish);
const noLists = oneTable('nolists', "today's schema without (status, id) and (name, id), plain statements", (S) => TODAY_DDL(S, false), updateFinish);
const deleting = oneTable('delete', 'no history: completion deletes the row (graphile-worker)', (S) => TODAY_DDL(S, true), (S) => `
  WITH ${batchCte}
  DELETE FROM ${S}.jobs j USING o
   WHERE j.id = o.id AND j.status = o.held_as AND j.processing_by = o.held_by AND $4::float8 > 0
  RETURNING j.id`);
/** One table where a completion changes no indexed column: runnable = lease_until IS NULL; no status or lease index. */
const hotClaim = (S: string) => plainClaim(`${S}.jobs`).replace("WHERE status = 'pending'", 'WHERE lease_until IS NULL');
const hot = oneTable('hot', 'one table, fillfactor 70, no index on anything a completion changes', (S) => `
  CREATE TABLE ${S}.jobs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ${COLS}) WITH (fillfactor = 70);
  CREATE INDEX ON ${S}.jobs (priority DESC, run_at, id) WHERE lease_until IS NULL;
  CREATE UNIQUE INDEX ON ${S}.jobs (unique_key) WHERE unique_key IS NOT NULL AND lease_until IS NULL;
  CREATE INDEX ON ${S}.jobs (name, id);`, (S) => `
  WITH ${batchCte}
  UPDATE ${S}.jobs j SET status = 'completed', result = o.result::json, completed_at = ${ts('$4')}
    FROM o WHERE j.id = o.id AND j.status = o.held_as AND j.processing_by = o.held_by
  RETURNING j.id`, hotClaim);

/**
 * Live jobs (pending, running) in one table, finished ones in another that only ever gets inserts; a
 * completion moves the row (DELETE … RETURNING feeding an INSERT). `partitioned` makes both partitions of
 * one `jobs` table (list by "is finished"), so reads of `jobs` see all of them.
 */
function split(id: string, what: string, o: { partitioned: boolean; liveName: boolean; notify: boolean; jsonb?: boolean; liveStatus?: boolean; pendingName?: boolean }): Candidate {
  const live = (S: string) => `${S}.${o.partitioned ? 'jobs_live' : 'live'}`;
  const done = (S: string) => `${S}.${o.partitioned ? 'jobs_done' : 'done'}`;
  const cols = o.jsonb ? COLS.replace('data             json', 'data             jsonb') : COLS;
  const notifyCte = (S: string) => o.notify
    ? `, note AS (SELECT pg_notify('${channelName(S.slice(1, -1))}', CASE WHEN octet_length(full_text) <= 7900 THEN full_text ELSE brief END)
         FROM (SELECT json_build_array(json_build_object('t', 'completed', 'i', array_agg(id::text)))::text AS full_text,
                      json_build_array(json_build_object('t', 'completed', 'c', count(*)))::text AS brief FROM ins) x)`
    : '';
  const gate = o.notify ? 'WHERE (SELECT count(*) FROM note) >= 0' : '';
  const finishCore = (S: string) => `
    ${batchCte},
    moved AS (
      DELETE FROM ${live(S)} j USING o WHERE j.id = o.id AND j.status = o.held_as AND j.processing_by = o.held_by
      RETURNING j.*, o.result AS outcome),
    ins AS (
      INSERT INTO ${done(S)} (id, ${COL_NAMES})
      SELECT m.id, m.name, m.data, 'completed', m.priority, m.attempts, m.max_attempts, m.backoff, m.timeout_ms, m.progress,
             m.outcome::json, m.error, m.error_stack, m.run_at, m.created_at, m.started_at, ${ts('$4')}, m.processing_by, NULL, false, m.unique_key
        FROM moved m
      RETURNING id)${notifyCte(S)}`;
  const finishSql = (S: string) => `WITH ${finishCore(S)} SELECT id FROM ins ${gate}`;
  const claimSql = (S: string) => plainClaim(live(S));
  return {
    id,
    what,
    tables: o.partitioned ? ['jobs_live', 'jobs_done'] : ['live', 'done'],
    async setup(c, schema) {
      const S = `"${schema}"`;
      const head = o.partitioned
        ? `CREATE SEQUENCE ${S}.job_ids;
           CREATE TABLE ${S}.jobs (id bigint NOT NULL DEFAULT nextval('${S}.job_ids'), ${cols})
             PARTITION BY LIST ((status IN ('completed', 'failed', 'cancelled')));
           CREATE TABLE ${live(S)} PARTITION OF ${S}.jobs (PRIMARY KEY (id)) FOR VALUES IN (false);
           CREATE TABLE ${done(S)} PARTITION OF ${S}.jobs (PRIMARY KEY (id)) FOR VALUES IN (true);`
        : `CREATE SEQUENCE ${S}.job_ids;
           CREATE TABLE ${live(S)} (id bigint PRIMARY KEY DEFAULT nextval('${S}.job_ids'), ${cols});
           CREATE TABLE ${done(S)} (id bigint PRIMARY KEY, ${cols});`;
      await c.query(`${head}
        CREATE INDEX ON ${live(S)} (priority DESC, run_at, id) WHERE status = 'pending';
        CREATE INDEX ON ${live(S)} (lease_until) WHERE status = 'running';
        CREATE UNIQUE INDEX ON ${live(S)} (unique_key) WHERE unique_key IS NOT NULL;
        ${o.liveName ? `CREATE INDEX ON ${live(S)} (name, id);` : ''}
        ${o.liveStatus ? `CREATE INDEX ON ${live(S)} (status, id);` : ''}
        ${o.pendingName ? `CREATE INDEX ON ${live(S)} (name, id) WHERE status = 'pending';` : ''}
        CREATE INDEX ON ${done(S)} (status, id);
        CREATE INDEX ON ${done(S)} (name, id);`);
    },
    fill: (c, S, n) => fillPlain(c, live(S), n),
    async claim(c, S, limit) {
      const now = Date.now();
      return (await c.query({ name: `${S}:claim`, text: claimSql(S), values: [WORKER, now, LEASE_MS, ['noop'], limit] })).rows;
    },
    async finish(c, S, jobs) {
      await c.query({ name: `${S}:finish`, text: finishSql(S), values: [ids(jobs), results(jobs), WORKER, Date.now()] });
    },
    async both(c, S, jobs, limit) {
      const text = `
        WITH ${finishCore(S)},
        claimed AS (${claimAfterFinish(claimSql(S))})
        SELECT * FROM claimed WHERE (SELECT count(*) FROM ins) >= 0 ${o.notify ? 'AND (SELECT count(*) FROM note) >= 0' : ''}`;
      return (await c.query({ name: `${S}:both`, text, values: bothValues(jobs, Date.now(), limit) })).rows;
    },
    explain: (S, some) => [
      ['claim', claimSql(S), [WORKER, Date.now(), LEASE_MS, ['noop'], 400]],
      ['finish', finishSql(S), [some, some.map(() => 'null'), WORKER, Date.now()]],
    ],
  };
}

const CANDIDATES: Candidate[] = [
  today,
  storeNoNotify,
  storeNoFeed,
  plain,
  noLists,
  deleting,
  hot,
  split('split', 'live + finished tables (name index on both), plain statements', { partitioned: false, liveName: true, notify: false }),
  split('split-lean', 'live + finished tables, no name index on live', { partitioned: false, liveName: false, notify: false }),
  split('split-pn', 'live + finished tables, name index on live for pending rows only (a claim does not touch it)', { partitioned: false, liveName: false, pendingName: true, notify: false }),
  split('split-full', 'live + finished tables, (status, id) and (name, id) on both', { partitioned: false, liveName: true, liveStatus: true, notify: false }),
  split('split-notify', 'split, with one NOTIFY per completion statement', { partitioned: false, liveName: true, notify: true }),
  split('split-jsonb', 'split, data as jsonb', { partitioned: false, liveName: true, notify: false, jsonb: true }),
  split('part', 'jobs partitioned into live + finished (name index on both)', { partitioned: true, liveName: true, notify: false }),
];

/** utime + stime of a backend, in ms (Linux /proc; 100 ticks a second). */
function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface RunResult { rate: number; walPerJob: number; tuplesPerJob: number; hotShare: number; pgCpuMsPerJob: number; nodeCpuMsPerJob: number; statements: Record<string, number> }

async function runOnce(cand: Candidate, mode: Mode, batch: number): Promise<RunResult> {
  const schema = `lay_${cand.id.replace(/-/g, '_')}_${Math.random().toString(36).slice(2, 8)}`;
  const S = `"${schema}"`;
  const admin = new pg.Client({ connectionString: URL_ });
  const a = new pg.Client({ connectionString: URL_, options: '-c enable_bitmapscan=off' });
  const b = new pg.Client({ connectionString: URL_, options: '-c enable_bitmapscan=off' });
  await Promise.all([admin.connect(), a.connect(), b.connect()]);
  let listener: pg.Client | undefined;
  try {
    await admin.query(`CREATE SCHEMA ${S}`);
    await cand.setup(admin, schema);
    if (PREFILL > 0) await prefill(admin, cand, S);
    await cand.fill(admin, S, JOBS);
    if (args.analyze) for (const t of cand.tables) await admin.query(`ANALYZE ${S}.${t}`);
    const pids = [(await a.query('SELECT pg_backend_pid() AS p')).rows[0].p, (await b.query('SELECT pg_backend_pid() AS p')).rows[0].p] as number[];
    const hasPgss = (await admin.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_stat_statements'`)).rows[0].n > 0;
    // With --listen, a connection LISTENs on the store's channel during the drain, as a worker's feed does.
    listener = args.listen ? new pg.Client({ connectionString: URL_ }) : undefined;
    if (listener) {
      await listener.connect();
      listener.on('notification', () => {});
      await listener.query(`LISTEN "${channelName(schema)}"`);
    }
    // Warm the prepared statements (one empty claim each) before the clock starts.
    await cand.claim(a, S, 0);
    await cand.claim(b, S, 0);
    if (hasPgss) await admin.query('SELECT pg_stat_statements_reset()');
    const tuplesBefore = await tuples(admin, schema, cand.tables);
    const walBefore = (await admin.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l as string;
    const cpuBefore = pids.map(backendCpuMs);
    const nodeBefore = process.cpuUsage();
    const t0 = performance.now();
    let done = 0;
    if (mode === 'pipe') {
      let jobs = await cand.claim(a, S, batch);
      while (jobs.length > 0) {
        const [next] = await Promise.all([cand.claim(a, S, batch), cand.finish(b, S, jobs)]);
        done += jobs.length;
        jobs = next;
      }
    } else {
      const loop = async (c: pg.Client) => {
        let jobs = await cand.claim(c, S, batch);
        while (jobs.length > 0) {
          const next = await cand.both(c, S, jobs, batch);
          done += jobs.length;
          jobs = next;
        }
      };
      await Promise.all([loop(a), loop(b)]);
    }
    const seconds = (performance.now() - t0) / 1000;
    const node = process.cpuUsage(nodeBefore);
    const pgCpu = pids.map(backendCpuMs).reduce((s, v, i) => s + v - cpuBefore[i]!, 0);
    const wal = Number((await admin.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d', [walBefore])).rows[0].d);
    await Promise.all([a.query('SELECT pg_stat_force_next_flush()'), b.query('SELECT pg_stat_force_next_flush()')]);
    const tuplesAfter = await tuples(admin, schema, cand.tables);
    if (done !== JOBS) throw new Error(`${cand.id}: completed ${done} of ${JOBS}`);
    const statements: Record<string, number> = {};
    if (hasPgss) {
      const { rows } = await admin.query(
        `SELECT query, calls, total_exec_time FROM pg_stat_statements WHERE query ILIKE $1 AND calls > 0`, [`%${schema}%`]);
      for (const r of rows as { query: string; calls: string; total_exec_time: number }[]) {
        // pg_stat_statements replaces constants by $n, so classify by shape.
        const locks = /FOR UPDATE/.test(r.query);
        const finishes = /unnest|json_to_recordset|DELETE/.test(r.query);
        const kind = locks && finishes ? 'both' : locks ? 'claim' : finishes ? 'finish' : 'other';
        if (kind === 'other') continue;
        statements[`${kind} ms`] = r.total_exec_time / Number(r.calls);
        statements[`${kind} calls`] = Number(r.calls);
      }
    }
    return {
      rate: JOBS / seconds,
      walPerJob: wal / JOBS,
      tuplesPerJob: (tuplesAfter.written - tuplesBefore.written) / JOBS,
      hotShare: tuplesAfter.upd - tuplesBefore.upd > 0 ? (tuplesAfter.hot - tuplesBefore.hot) / (tuplesAfter.upd - tuplesBefore.upd) : 0,
      pgCpuMsPerJob: pgCpu / JOBS,
      nodeCpuMsPerJob: (node.user + node.system) / 1000 / JOBS,
      statements,
    };
  } finally {
    await Promise.all([a.end(), b.end(), listener?.end()]);
    await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
    await admin.end();
  }
}

async function tuples(c: pg.Client, schema: string, tables: string[]) {
  const { rows } = await c.query(
    `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::float8 AS written, coalesce(sum(n_tup_upd), 0)::float8 AS upd,
            coalesce(sum(n_tup_hot_upd), 0)::float8 AS hot
       FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = ANY($2)`, [schema, tables]);
  return rows[0] as { written: number; upd: number; hot: number };
}

/** Finished history already in the table(s): PREFILL completed jobs, then ANALYZE (W7's setting). */
async function prefill(c: pg.Client, cand: Candidate, S: string): Promise<void> {
  const target = cand.tables.length === 2 ? `${S}.${cand.tables[1]}` : `${S}.jobs`;
  const id = cand.tables.length === 2 ? `nextval('${S}.job_ids'), ` : '';
  await c.query(
    `INSERT INTO ${target} (${id ? 'id, ' : ''}name, data, status, attempts, max_attempts, result, run_at, created_at, started_at, completed_at, processing_by)
     SELECT ${id}'noop', json_build_object('i', -1), 'completed', 1, 3, 'null', now(), now(), now(), now(), 'seed' FROM generate_series(1, $1)`, [PREFILL]);
  await c.query('CHECKPOINT');
  for (const t of cand.tables) await c.query(`ANALYZE ${S}.${t}`);
}

async function explainAll(): Promise<void> {
  for (const cand of chosen) {
    if (!cand.explain) continue;
    const schema = `lay_x_${Math.random().toString(36).slice(2, 8)}`;
    const S = `"${schema}"`;
    const c = new pg.Client({ connectionString: URL_, options: '-c enable_bitmapscan=off' });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA ${S}`);
      await cand.setup(c, schema);
      await cand.fill(c, S, JOBS);
      for (const analysed of [false, true]) {
        if (analysed) for (const t of cand.tables) await c.query(`ANALYZE ${S}.${t}`);
        const claimed = await cand.claim(c, S, 400);
        for (const [label, text, values] of cand.explain(S, ids(claimed))) {
          await c.query('BEGIN');
          await c.query('SET LOCAL plan_cache_mode = force_generic_plan');
          await c.query(`PREPARE x_${label} AS ${text}`);
          const literal = values.map((v) => pgLiteral(v)).join(', ');
          const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE x_${label}(${literal})`);
          await c.query('ROLLBACK');
          await c.query(`DEALLOCATE x_${label}`);
          console.log(`\n### ${cand.id} ${label} (${analysed ? 'analysed' : 'never analysed'}, generic plan)\n`);
          console.log(rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n'));
        }
      }
    } finally {
      await c.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
      await c.end();
    }
  }
}

function pgLiteral(v: unknown): string {
  if (v === null) return 'NULL';
  if (Array.isArray(v)) return `ARRAY[${v.map((x) => pgLiteral(x)).join(', ')}]${typeof v[0] === 'number' || /^\d+$/.test(String(v[0])) ? '::bigint[]' : '::text[]'}`;
  if (typeof v === 'number') return String(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

const chosen = CANDIDATES.filter((c) => (args.only ? args.only.split(',').includes(c.id) : c.id !== 'part'));
if (args.explain) {
  await explainAll();
} else {
  const all = new Map<string, RunResult[]>();
  for (let rep = 1; rep <= REPS; rep++) {
    for (const batch of BATCHES) {
      for (const mode of MODES) {
        // Rotate the order each round so no candidate always runs first (or right after a heavy one).
        const order = chosen.map((_, i) => chosen[(i + rep) % chosen.length]!);
        for (const cand of order) {
          const key = `${cand.id}\t${mode}\t${batch}`;
          const r = await runOnce(cand, mode, batch);
          (all.get(key) ?? all.set(key, []).get(key)!).push(r);
          process.stderr.write(`rep ${rep} ${key}\t${Math.round(r.rate)}/s\n`);
        }
      }
    }
  }
  const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
  console.log('| candidate | mode | batch | jobs/s best | median (all runs) | WAL B/job | tuples/job | HOT | PG CPU ms/job | node CPU ms/job | statement ms (pg_stat_statements) |');
  console.log('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const [key, rs] of all) {
    const [id, mode, batch] = key.split('\t');
    const stmts = Object.entries(rs[0]!.statements).filter(([k]) => k.endsWith('ms')).map(([k, v]) => `${k.replace(' ms', '')} ${v.toFixed(2)}`).join(', ');
    console.log(`| ${id} | ${mode} | ${batch} | ${(Math.max(...rs.map((r) => r.rate)) / 1000).toFixed(1)}k | ${(med(rs.map((r) => r.rate)) / 1000).toFixed(1)}k (${rs.map((r) => (r.rate / 1000).toFixed(1)).join(' ')}) | ${Math.round(med(rs.map((r) => r.walPerJob)))} | ${med(rs.map((r) => r.tuplesPerJob)).toFixed(2)} | ${(100 * med(rs.map((r) => r.hotShare))).toFixed(0)}% | ${med(rs.map((r) => r.pgCpuMsPerJob)).toFixed(3)} | ${med(rs.map((r) => r.nodeCpuMsPerJob)).toFixed(3)} | ${stmts} |`);
  }
}
