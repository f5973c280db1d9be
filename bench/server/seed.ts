import Database from 'better-sqlite3';
import type pg from 'pg';

/**
 * Fills a fresh queue with `n` jobs in one statement per table (no per-job round trips), then recounts the
 * counters the statements would have kept, so counts, names and throughput read what is there. The mix, by
 * id: 90 % completed, 5 % failed, 4 % pending, 1 % cancelled; 10 names; data `{ repo: 'org/r<i % 5000>', n: i,
 * tags: ['t<i % 7>'] }`; one job finished every 10 ms, the newest now.
 */

const STATUS = (i: string) =>
  `CASE WHEN ${i} % 100 < 90 THEN 'completed' WHEN ${i} % 100 < 95 THEN 'failed' WHEN ${i} % 100 < 99 THEN 'pending' ELSE 'cancelled' END`;

export function seedSqlite(file: string, n: number, now = Date.now()): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 60000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
      INSERT INTO spool_jobs (name, data, status, priority, attempts, max_attempts, run_at, created_at, started_at, completed_at, result, error)
      SELECT 'name' || (i % 10),
             json_object('repo', 'org/r' || (i % 5000), 'n', i, 'tags', json_array('t' || (i % 7))),
             ${STATUS('i')}, 0, iif(i % 100 < 90, 1, iif(i % 100 < 95, 3, 0)), 3,
             ${now} - (${n} - i) * 10, ${now} - (${n} - i) * 10 - 60, ${now} - (${n} - i) * 10 - 50,
             iif(i % 100 < 95 OR i % 100 >= 99, ${now} - (${n} - i) * 10, NULL),
             iif(i % 100 < 90, '{"ok":true}', NULL), iif(i % 100 BETWEEN 90 AND 94, 'boom', NULL)
        FROM s;
      DELETE FROM spool_counters;
      INSERT INTO spool_counters (kind, key, name, n)
        SELECT 0, CASE status WHEN 'pending' THEN 0 WHEN 'running' THEN 1 WHEN 'completed' THEN 2 WHEN 'failed' THEN 3 ELSE 4 END, name, count(*)
          FROM spool_jobs GROUP BY name, status;
      INSERT INTO spool_counters (kind, key, name, n)
        SELECT iif(status = 'completed', 1, 2), completed_at / 60000, name, count(*)
          FROM spool_jobs WHERE status IN ('completed', 'failed') GROUP BY 1, 2, 3;
      ANALYZE;`);
  } finally {
    db.close();
  }
}

export async function seedPostgres(client: pg.Client, schema: string, n: number, now = Date.now()): Promise<void> {
  const S = `"${schema}"`;
  const cols = `id, name, data, status, priority, attempts, max_attempts, run_at, created_at, started_at, completed_at, result, error`;
  const row = (where: string) => `
    SELECT i, 'name' || (i % 10),
           json_build_object('repo', 'org/r' || (i % 5000), 'n', i, 'tags', json_build_array('t' || (i % 7))),
           ${STATUS('i')}, 0, CASE WHEN i % 100 < 90 THEN 1 WHEN i % 100 < 95 THEN 3 ELSE 0 END, 3,
           to_timestamp((${now} - (${n} - i) * 10) / 1000.0), to_timestamp((${now} - (${n} - i) * 10 - 60) / 1000.0),
           to_timestamp((${now} - (${n} - i) * 10 - 50) / 1000.0),
           CASE WHEN i % 100 < 95 OR i % 100 >= 99 THEN to_timestamp((${now} - (${n} - i) * 10) / 1000.0) END,
           CASE WHEN i % 100 < 90 THEN '{"ok":true}'::json END, CASE WHEN i % 100 BETWEEN 90 AND 94 THEN 'boom' END
      FROM generate_series(1, ${n}) AS i WHERE ${where}`;
  await client.query(`INSERT INTO ${S}.jobs_done (${cols}) ${row('i % 100 < 95 OR i % 100 >= 99')}`);
  await client.query(`INSERT INTO ${S}.jobs_live (${cols}) ${row('i % 100 BETWEEN 95 AND 98')}`);
  await client.query(`SELECT setval('${S}.job_ids', ${n})`);
  await client.query(`DELETE FROM ${S}.counters`);
  await client.query(`
    INSERT INTO ${S}.counters (kind, key, name, shard, n)
    SELECT 0, array_position(ARRAY['pending', 'running', 'completed', 'failed', 'cancelled'], status) - 1, name, 0, count(*)
      FROM ${S}.jobs GROUP BY name, status`);
  await client.query(`
    INSERT INTO ${S}.counters (kind, key, name, shard, n)
    SELECT CASE WHEN status = 'completed' THEN 1 ELSE 2 END, floor(extract(epoch FROM completed_at) / 60)::bigint, name, 0, count(*)
      FROM ${S}.jobs_done WHERE status IN ('completed', 'failed') GROUP BY 1, 2, 3`);
  await client.query(`VACUUM ANALYZE ${S}.jobs_live`);
  await client.query(`VACUUM ANALYZE ${S}.jobs_done`);
  await client.query(`ANALYZE ${S}.counters`);
}
