/**
 * The CLI's pure parts, without a process: connection resolution, colour rules, argument parsers, the
 * doctor's verdicts on given facts, and the index list read from migration SQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration } from '../src/cli/arguments.ts';
import { displayUrl, resolveConfig } from '../src/cli/config.ts';
import { judge } from '../src/cli/doctor/checks.ts';
import { colorEnabled } from '../src/cli/print/color.ts';
import { renderTable } from '../src/cli/print/table.ts';
import { palette } from '../src/cli/print/color.ts';
import { indexesCreatedBy, type PostgresFacts } from '../src/store/inspection.ts';

test('resolveConfig: --db, then SPOOL_DATABASE_URL, then sqlite:./spool.db; blank values count as unset', () => {
  assert.deepEqual(resolveConfig({ flags: { db: 'sqlite:a.db' }, env: { SPOOL_DATABASE_URL: 'sqlite:b.db' } }), { url: 'sqlite:a.db', source: 'flag', schema: undefined });
  assert.deepEqual(resolveConfig({ flags: {}, env: { SPOOL_DATABASE_URL: 'sqlite:b.db', SPOOL_SCHEMA: 'jobs' } }), { url: 'sqlite:b.db', source: 'env', schema: 'jobs' });
  assert.deepEqual(resolveConfig({ flags: { db: ' ' }, env: { SPOOL_DATABASE_URL: '' } }), { url: 'sqlite:./spool.db', source: 'default', schema: undefined });
  assert.equal(resolveConfig({ flags: { schema: 'a' }, env: { SPOOL_SCHEMA: 'b' } }).schema, 'a');
  assert.equal(displayUrl('postgres://app:s3cret@db:5432/app'), 'postgres://app:…@db:5432/app');
});

test('colour: on a terminal only; NO_COLOR (non-empty) always wins; FORCE_COLOR turns it on off a terminal; TERM=dumb off', () => {
  assert.equal(colorEnabled(true, {}), true);
  assert.equal(colorEnabled(false, {}), false);
  assert.equal(colorEnabled(true, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled(true, { NO_COLOR: '' }), true);
  assert.equal(colorEnabled(false, { FORCE_COLOR: '1' }), true);
  assert.equal(colorEnabled(false, { FORCE_COLOR: '0' }), false);
  assert.equal(colorEnabled(true, { NO_COLOR: 'x', FORCE_COLOR: '1' }), false);
  assert.equal(colorEnabled(true, { TERM: 'dumb' }), false);
});

test('tables align on visible width, colour codes left out of the count', () => {
  const p = palette(true);
  const out = renderTable([{ head: 'ID', align: 'right' }, { head: 'STATUS' }, { head: 'INFO' }], [['1', p.red('failed'), 'x'], ['100', 'pending', 'y']], p);
  const plain = out.replace(new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g'), '');
  assert.deepEqual(plain.split('\n'), [' ID  STATUS   INFO', '  1  failed   x', '100  pending  y', '']);
});

test('durations: a unit or plain milliseconds; --older-than needs a unit', () => {
  assert.equal(duration(false)('1500'), 1500);
  assert.equal(duration(false)('1.5s'), 1500);
  assert.equal(duration(true)('7d'), 7 * 86_400_000);
  assert.equal(duration(true)('2w'), 14 * 86_400_000);
  assert.throws(() => duration(true)('7'), /with a unit/);
  assert.throws(() => duration(false)('-5'), /milliseconds/);
  assert.throws(() => duration(false)('5 minutes'), /milliseconds/);
});

test('indexesCreatedBy follows CREATE, DROP INDEX, DROP TABLE and renames through the migrations', () => {
  const migrations = [
    `CREATE TABLE "s".jobs (id int);
     -- a comment; with a semicolon
     CREATE INDEX jobs_a ON "s".jobs (id);
     CREATE UNIQUE INDEX IF NOT EXISTS jobs_b ON "s".jobs (id) WHERE id > 0;
     CREATE INDEX old_c ON "s".other (id);`,
    `DROP INDEX "s".jobs_a;
     ALTER INDEX "s".old_c RENAME TO other_c;
     CREATE INDEX tmp_d ON "s".tmp (id);
     DROP TABLE "s".tmp CASCADE;
     ALTER TABLE "s".jobs RENAME TO jobs_live;
     CREATE INDEX jobs_e ON ONLY "s".jobs_live (id)`,
  ];
  const found = indexesCreatedBy(migrations);
  assert.deepEqual(found.map((i) => i.name), ['jobs_b', 'other_c', 'jobs_e']);
  assert.equal(found[0]!.sql, 'CREATE UNIQUE INDEX IF NOT EXISTS jobs_b ON "s".jobs (id) WHERE id > 0;');
  assert.equal(found[1]!.sql, 'CREATE INDEX other_c ON "s".other (id);');
});

const healthyPostgres: PostgresFacts = {
  kind: 'postgres',
  schema: 'spool',
  connected: true,
  serverVersion: '16.4',
  schemaExists: true,
  schemaVersion: 2,
  knownVersion: 2,
  hasJobsTable: true,
  indexes: [{ name: 'jobs_a', valid: true }],
  expectedIndexes: [{ name: 'jobs_a', sql: 'CREATE INDEX jobs_a ON "spool".jobs (id);' }],
  autovacuum: true,
  trackCounts: true,
  tables: [{ name: 'jobs', options: {}, liveRows: 1_000, deadRows: 10, lastAutovacuum: null }],
  maxConnections: 100,
  reservedConnections: 3,
  connectionsInUse: 10,
  spoolConnections: 5,
  expiredLeases: 0,
};
const statusOf = (facts: PostgresFacts, name: string, plan = {}) => judge(facts, plan).find((c) => c.name === name)?.status;

test('doctor on PostgreSQL: healthy facts pass; each setting that needs fixing fails or warns', () => {
  assert.ok(judge(healthyPostgres).every((c) => c.status === 'ok'), JSON.stringify(judge(healthyPostgres)));
  assert.equal(statusOf({ ...healthyPostgres, autovacuum: false }, 'autovacuum'), 'fail');
  assert.equal(statusOf({ ...healthyPostgres, tables: [{ name: 'jobs', options: { autovacuum_enabled: 'false' }, liveRows: 0, deadRows: 0, lastAutovacuum: null }] }, 'autovacuum'), 'fail');
  assert.equal(statusOf({ ...healthyPostgres, tables: [{ name: 'jobs', options: {}, liveRows: 100_000, deadRows: 90_000, lastAutovacuum: null }] }, 'autovacuum'), 'warn');
  assert.equal(statusOf({ ...healthyPostgres, indexes: [{ name: 'jobs_a', valid: false }] }, 'indexes'), 'fail');
  assert.equal(statusOf({ ...healthyPostgres, indexes: [] }, 'indexes'), 'fail');
  assert.equal(statusOf({ ...healthyPostgres, schemaVersion: 3 }, 'schema'), 'fail');
  assert.equal(statusOf({ ...healthyPostgres, schemaVersion: 1 }, 'schema'), 'warn');
  assert.equal(statusOf({ ...healthyPostgres, connectionsInUse: 85 }, 'connections'), 'warn');
  assert.equal(statusOf({ ...healthyPostgres, connectionsInUse: 95 }, 'connections'), 'fail');
  // 20 processes × (pool 4 + 1 listener) = 100, beside 5 others: more than 97.
  assert.equal(statusOf(healthyPostgres, 'connections', { processes: 20 }), 'fail');
  assert.equal(statusOf(healthyPostgres, 'connections', { processes: 20, pool: 2 }), 'ok');
  assert.equal(statusOf({ ...healthyPostgres, expiredLeases: 3 }, 'leases'), 'warn');
  assert.deepEqual(judge({ ...healthyPostgres, connected: false, error: 'ECONNREFUSED' }).map((c) => c.status), ['fail']);
});

test('doctor on SQLite: a missing file, a journal mode other than WAL and a missing index fail', () => {
  const base = {
    kind: 'sqlite' as const,
    path: '/tmp/x.db',
    exists: true,
    sqliteVersion: '3.46',
    schemaVersion: 1,
    knownVersion: 1,
    hasJobsTable: true,
    journalMode: 'wal',
    pageSize: 4096,
    pageCount: 10,
    freelistCount: 0,
    indexes: [{ name: 'i', valid: true }],
    expectedIndexes: [{ name: 'i', sql: 'CREATE INDEX i ON spool_jobs (id);' }],
    expiredLeases: 0,
  };
  assert.ok(judge(base).every((c) => c.status === 'ok'));
  assert.deepEqual(judge({ ...base, exists: false }).map((c) => c.status), ['fail']);
  assert.equal(judge({ ...base, journalMode: 'delete' }).find((c) => c.name === 'journal mode')?.status, 'fail');
  const missing = judge({ ...base, indexes: [] }).find((c) => c.name === 'indexes');
  assert.deepEqual([missing?.status, missing?.fix], ['fail', 'CREATE INDEX i ON spool_jobs (id);']);
});
