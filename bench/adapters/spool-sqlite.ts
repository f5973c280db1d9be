import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openQueue } from '../../src/index.ts';
import type { Adapter } from './adapter.ts';
import { completeOneJob, SpoolSession } from './spool-session.ts';

/** Where fresh SQLite files go: env BENCH_TMPDIR, else the OS temp directory. */
export function freshDir(prefix: string): string {
  return mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), `${prefix}-`));
}

/**
 * Spool on a fresh SQLite file per queue (in `dir`, default the temp directory; removed after), at its
 * defaults (WAL, synchronous FULL: every commit is durable).
 */
export function makeSpoolSqlite(dir?: string): Adapter {
  return {
  id: 'spool-sqlite',
  label: 'Spool (SQLite)',
  store: 'sqlite',
  workloads: ['W1', 'W2', 'W3', 'W3L', 'W3K', 'W3F', 'W4', 'W5', 'W6', 'W7', 'W8'],
  variants: [{ id: 'default', settings: "openQueue('sqlite:<file>') defaults: WAL, synchronous=FULL; worker defaults (progressFlushMs 1000, leaseMs 30000)" }],
  counting: 'queue.stats(): the store counts every statement it runs (better-sqlite3 is in-process: a round trip is a call and a commit)',
  notes: 'progress: ctx.progress() (coalesced, written by the worker tick); listing: queue.listJobs({ name, limit }), one statement',
  async open() {
    const tmp = dir ? mkdtempSync(join(dir, 'spool-bench-')) : freshDir('spool-bench');
    const file = join(tmp, 'bench.db');
    const queue = await openQueue(`sqlite:${file}`);
    let reader: Database.Database | undefined;
    return new SpoolSession(queue, {
      // '+name' keeps SQLite on the status index: waiting and running rows only, never the finished ones.
      unfinished: async (name) => {
        reader ??= new Database(file, { readonly: true });
        return (reader.prepare(`SELECT count(*) AS n FROM spool_jobs WHERE status IN ('pending', 'running') AND +name = ?`).get(name) as { n: number }).n;
      },
      seedFinished: async (name, n) => {
        const id = await completeOneJob(queue, name);
        // A second connection on the same file: one INSERT … SELECT over a recursive CTE, one commit.
        const db = new Database(file);
        try {
          db.pragma('busy_timeout = 10000');
          const cols = (db.prepare(`SELECT name FROM pragma_table_info('spool_jobs') WHERE name <> 'id'`).all() as { name: string }[])
            .map((c) => c.name)
            .join(', ');
          db.prepare(
            `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < @n)
             INSERT INTO spool_jobs (${cols}) SELECT ${cols} FROM spool_jobs, s WHERE spool_jobs.id = @id`,
          ).run({ n, id: Number(id) });
          // The seed leaves ~1M rows of pages in the WAL; without this the first commit of the measured drain
          // checkpointed them all (W7 then measured writing the seed back, not draining beside it).
          db.pragma('wal_checkpoint(TRUNCATE)');
        } finally {
          db.close();
        }
      },
      cleanup: async () => {
        reader?.close();
        rmSync(tmp, { recursive: true, force: true });
      },
    });
  },
  };
}

export const spoolSqlite = makeSpoolSqlite();
