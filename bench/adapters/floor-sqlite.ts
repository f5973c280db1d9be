import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '../../src/store/sqlite/schema.ts';
import * as SQL from '../../src/store/sqlite/statements.ts';
import type { Adapter, BenchHandler, Session } from './adapter.ts';
import { freshDir } from './spool-sqlite.ts';

const BATCH = 100;
const WORKER = 'floor';

// Completions go through the statement the store uses for them: COMPLETE ([id, result, progress] rows)
// where the store has one, else FINISH (outcome objects). Looked up at run time so the floor follows the store.
const COMPLETE = (SQL as Record<string, unknown>).COMPLETE as string | undefined;
const completeStatement = COMPLETE ?? SQL.FINISH;
const completePayload = (ids: number[]) =>
  JSON.stringify(COMPLETE ? ids.map((id) => [id, 'null', null]) : ids.map((id) => ({ id, status: 'completed', result: 'null', progress: null })));

/**
 * The raw-SQL floor of the SQLite store: Spool's own schema and its claim and completion statements
 * (src/store/sqlite/statements.ts), issued directly in batches of 100 with no queue code: one IMMEDIATE
 * transaction per batch that finishes the previous 100 and claims the next 100, as Spool's worker does,
 * at the same durability (WAL, synchronous FULL). The limit of this design on this machine.
 */
export const floorSqlite: Adapter = {
  id: 'floor-sqlite',
  label: 'raw-SQL floor (SQLite)',
  store: 'sqlite',
  workloads: ['W3', 'W7'],
  variants: [
    {
      id: 'batch100',
      settings: `Spool's CLAIM_JOBS + ${COMPLETE ? 'COMPLETE' : 'FINISH'} in one transaction per batch of 100; WAL, synchronous=FULL; concurrency not used`,
    },
  ],
  counting: 'not counted (one transaction of two statements per 100 jobs by construction)',
  notes: 'drain only',
  async open() {
    const dir = freshDir('spool-floor');
    const db = new Database(join(dir, 'floor.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db);
    const insert = db.prepare(SQL.INSERT_JOBS);
    const claim = db.prepare(SQL.CLAIM_JOBS);
    const finish = db.prepare(completeStatement);
    const step = db.transaction((done: string, names: string) => {
      const now = Date.now();
      if (done !== '[]') finish.run({ outcomes: done, workerId: WORKER, now });
      return claim.all({ workerId: WORKER, now, leaseUntil: now + 30_000, names, limit: BATCH }) as { id: number; name: string; data: string }[];
    });
    let running: Promise<void> | undefined;
    let stop = false;
    const toJob = (name: string, data: unknown) => ({ name, data: JSON.stringify(data), priority: 0, runAt: Date.now(), maxAttempts: 3, backoff: null, timeout: null, uniqueKey: null });

    const session: Session = {
      async add(name, data) {
        insert.all({ jobs: JSON.stringify([toJob(name, data)]), now: Date.now() });
      },
      async addBulk(jobs) {
        insert.all({ jobs: JSON.stringify(jobs.map((j) => toJob(j.name, j.data))), now: Date.now() });
      },
      async startWorker(names, handler: BenchHandler) {
        stop = false;
        const namesJson = JSON.stringify(names);
        running = (async () => {
          let done = '[]';
          while (!stop) {
            const jobs = step.immediate(done, namesJson);
            if (jobs.length === 0 && done === '[]') break;
            for (const j of jobs) await handler({ id: String(j.id), name: j.name, data: JSON.parse(j.data) }, () => {});
            done = jobs.length === 0 ? '[]' : completePayload(jobs.map((j) => j.id));
          }
        })();
      },
      async stopWorker() {
        stop = true;
        await running;
      },
      async completed(name) {
        return (db.prepare(`SELECT count(*) AS n FROM spool_jobs WHERE name = ? AND status = 'completed'`).get(name) as { n: number }).n;
      },
      async unfinished(name) {
        return (db.prepare(`SELECT count(*) AS n FROM spool_jobs WHERE status IN ('pending', 'running') AND +name = ?`).get(name) as { n: number }).n;
      },
      async list() {
        throw new Error('the floor does not list');
      },
      async seedFinished(name, n) {
        const [row] = insert.all({ jobs: JSON.stringify([toJob(name, { i: -1 })]), now: Date.now() }) as { id: number }[];
        db.prepare(`UPDATE spool_jobs SET status = 'completed', attempts = 1, completed_at = ?, result = 'null' WHERE id = ?`).run(Date.now(), row!.id);
        const cols = (db.prepare(`SELECT name FROM pragma_table_info('spool_jobs') WHERE name <> 'id'`).all() as { name: string }[]).map((c) => c.name).join(', ');
        db.prepare(
          `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < @n)
           INSERT INTO spool_jobs (${cols}) SELECT ${cols} FROM spool_jobs, s WHERE spool_jobs.id = @id`,
        ).run({ n, id: row!.id });
        // Write the seed back to the file now, not in the first commits of the measured drain (see spool-sqlite).
        db.pragma('wal_checkpoint(TRUNCATE)');
      },
      async traffic() {
        return null;
      },
      async close() {
        await session.stopWorker();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return session;
  },
};
