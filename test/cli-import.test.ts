/**
 * `spool add --file`: 100,000 NDJSON lines with bad ones among them, through the real binary, on a real
 * SQLite file and the real PostgreSQL. The good lines are all added, the bad ones reported by line number,
 * and nothing of a bad line is written.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Job } from '../src/index.ts';
import { type CliTarget, spool, spoolJson } from './support/cli.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres, withAdmin } from './support/postgres.ts';
import { tempDir } from './support/sqlite.ts';

const JOB_LINES = 100_000;
const BLANK_AT = 30_000;
/** Line number → the bad line written there, and what the report must say about it. */
const BAD: Record<number, { text: (i: number) => string; reason: RegExp }> = {
  7: { text: (i) => `{"name":"work","data":{"i":${i}}`, reason: /^not JSON/ },
  50_001: { text: (i) => `{"name":"work","data":{"i":${i}},"priorty":5}`, reason: /unknown field "priorty"/ },
  77_777: { text: (i) => `{"name":"work","data":{"i":${i}},"options":{"priority":"high"}}`, reason: /priority/ },
  99_999: { text: (i) => `{"data":{"i":${i}}}`, reason: /"name" must be a string/ },
};

interface Summary {
  jobs: number;
  added: number;
  rejected: { line: number; reason: string }[];
}

/** Writes the NDJSON file: job i on its line, a blank line at BLANK_AT, bad lines where BAD says. Returns the bad i values. */
function writeJobsFile(path: string): number[] {
  const lines: string[] = [];
  const badIs: number[] = [];
  let i = 0;
  while (i < JOB_LINES) {
    const lineNo = lines.length + 1;
    if (lineNo === BLANK_AT) {
      lines.push('');
      continue;
    }
    i++;
    const bad = BAD[lineNo];
    if (bad) badIs.push(i);
    lines.push(bad ? bad.text(i) : JSON.stringify({ name: 'work', data: { i }, options: i % 10 === 0 ? { priority: 5 } : undefined }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return badIs;
}

async function importAndCheck(target: CliTarget, file: string, stored: () => Promise<{ jobs: number; distinct: number; badStored: number }>, badIs: number[]) {
  const result = await spool(target, ['add', '--file', file, '--json'], { timeoutMs: 300_000 });
  assert.equal(result.code, 1, `some lines were rejected: exit 1; stderr: ${result.stderr}`);
  const summary = JSON.parse(result.stdout) as Summary;
  assert.equal(summary.jobs, JOB_LINES);
  assert.equal(summary.added, JOB_LINES - badIs.length);
  assert.deepEqual(summary.rejected.map((r) => r.line), Object.keys(BAD).map(Number));
  for (const r of summary.rejected) assert.match(r.reason, BAD[r.line]!.reason, `line ${r.line}`);
  assert.deepEqual(await stored(), { jobs: JOB_LINES - badIs.length, distinct: JOB_LINES - badIs.length, badStored: 0 });
}

describe('spool add --file', { concurrency: 2 }, () => {
  test('SQLite: 100,000 lines, 4 bad: 99,996 added once each, the 4 reported by line, none of them written', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'spool.db');
      const file = join(dir, 'jobs.ndjson');
      const badIs = writeJobsFile(file);
      await importAndCheck({ url: `sqlite:${path}` }, file, async () => {
        const db = new Database(path, { readonly: true });
        try {
          const row = db
            .prepare(`SELECT count(*) AS jobs, count(DISTINCT json_extract(data, '$.i')) AS distinct_i,
                             sum(json_extract(data, '$.i') IN (${badIs.join(',')})) AS bad FROM spool_jobs`)
            .get() as { jobs: number; distinct_i: number; bad: number };
          return { jobs: row.jobs, distinct: row.distinct_i, badStored: row.bad };
        } finally {
          db.close();
        }
      }, badIs);
    } finally {
      cleanup();
    }
  });

  test('PostgreSQL: 100,000 lines, 4 bad: 99,996 added once each, the 4 reported by line, none of them written', async () => {
    await requirePostgres();
    const schema = freshSchemaName();
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'jobs.ndjson');
      const badIs = writeJobsFile(file);
      await importAndCheck({ url: PG_URL, schema }, file, () =>
        withAdmin(async (c) => {
          const { rows } = await c.query<{ jobs: number; distinct_i: number; bad: number }>(
            `SELECT count(*)::int AS jobs, count(DISTINCT data->>'i')::int AS distinct_i,
                    count(*) FILTER (WHERE (data->>'i')::int = ANY($1))::int AS bad FROM "${schema}".jobs`,
            [badIs],
          );
          return { jobs: rows[0]!.jobs, distinct: rows[0]!.distinct_i, badStored: rows[0]!.bad };
        }), badIs);
    } finally {
      cleanup();
      await dropSchema(schema);
    }
  });

  test('a line the database refuses is found among its chunk and reported; its neighbours are added (PostgreSQL)', async () => {
    await requirePostgres();
    const schema = freshSchemaName();
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'jobs.ndjson');
      // Year -10000 is a valid JavaScript date but outside PostgreSQL's timestamp range: whichever refuses it
      // (the database, or a check added before it), line 1,500 is reported and the other 2,999 are added.
      const lines = Array.from({ length: 3_000 }, (_, k) =>
        JSON.stringify({ name: 'work', data: { i: k + 1 }, options: k + 1 === 1_500 ? { runAt: '-010000-01-01T00:00:00.000Z' } : undefined }),
      );
      writeFileSync(file, lines.join('\n'));
      const target = { url: PG_URL, schema };
      const result = await spool(target, ['add', '--file', file, '--json']);
      assert.equal(result.code, 1, result.stderr);
      const summary = JSON.parse(result.stdout) as Summary;
      assert.deepEqual([summary.added, summary.rejected.map((r) => r.line)], [2_999, [1_500]]);
      const stats = await spoolJson<{ counts: { pending: number } }>(target, ['stats']);
      assert.equal(stats.counts.pending, 2_999);
    } finally {
      cleanup();
      await dropSchema(schema);
    }
  });

  test('with a job name each line is its data; --file - reads stdin; the summary names the bad lines for people', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const target = { url: `sqlite:${join(dir, 'spool.db')}` };
      const input = ['{"repo":"a/b"}', '{"repo":', '"just a string"', '', '{"repo":"c/d"}'].join('\n');
      const result = await spool(target, ['add', 'deep-scan', '--file', '-', '--priority', '3'], { input });
      assert.equal(result.code, 1);
      assert.match(result.stdout, /^added 3 of 4 jobs from stdin$/m);
      assert.match(result.stdout, /^rejected 1 line \(nothing of them was written\):$/m);
      assert.match(result.stdout, /^ {2}line 2: not JSON/m);
      const { jobs } = await spoolJson<{ jobs: Job[] }>(target, ['ls']);
      assert.deepEqual(jobs.map((j) => [j.name, j.data, j.priority]).reverse(), [
        ['deep-scan', { repo: 'a/b' }, 3],
        ['deep-scan', 'just a string', 3],
        ['deep-scan', { repo: 'c/d' }, 3],
      ]);

      const clean = join(dir, 'clean.ndjson');
      writeFileSync(clean, '{"name":"a","options":{"runAt":"2030-01-01T00:00:00Z"}}\n{"name":"b","data":[1,2]}\n');
      const ok = await spool(target, ['add', '--file', clean]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^added 2 of 2 jobs from /m);
      const a = (await spoolJson<{ jobs: Job[] }>(target, ['ls', '--name', 'a'])).jobs[0]!;
      assert.equal(new Date(a.runAt).toISOString(), '2030-01-01T00:00:00.000Z');

      assert.equal((await spool(target, ['add', '--file', join(dir, 'missing.ndjson')])).code, 2);
      assert.equal((await spool(target, ['add', 'x', '{}', '--file', clean])).code, 2, 'JSON data and --file together is bad usage');
    } finally {
      cleanup();
    }
  });
});
