import type { DatabaseFacts, ExpectedIndex, FoundIndex, PostgresFacts, SqliteFacts } from '../../store/inspection.ts';
import { formatCount } from '../print/format.ts';

/** One verdict of `spool doctor`. `fail` needs fixing (exit 1); `warn` is worth a look. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** What the operator plans to run, for the connection budget (flags of spool doctor). */
export interface Plan {
  /** Processes that will open the queue. */
  processes?: number;
  /** Their pool size (openQueue({ pool: { max } }); default 4). */
  pool?: number;
}

/** Spool's pool size when openQueue() is given none. */
const DEFAULT_POOL = 4;

/** Judges the facts. Pure: tests feed it facts, no database needed. */
export function judge(facts: DatabaseFacts, plan: Plan = {}): Check[] {
  return facts.kind === 'sqlite' ? judgeSqlite(facts) : judgePostgres(facts, plan);
}

function judgeSqlite(f: SqliteFacts): Check[] {
  if (f.path === ':memory:') {
    return [{ name: 'connection', status: 'fail', detail: 'sqlite::memory: lives inside one process; there is no database to check', fix: 'point --db at the file your workers use, e.g. sqlite:./spool.db' }];
  }
  if (!f.exists) {
    return [{ name: 'connection', status: 'fail', detail: `no file at ${f.path}`, fix: 'check --db / SPOOL_DATABASE_URL: Spool creates the file the first time a queue opens it (openQueue, spool worker, spool add)' }];
  }
  if (f.error !== undefined) {
    return [{ name: 'connection', status: 'fail', detail: `cannot read ${f.path}: ${f.error}`, fix: 'check that the file is a SQLite database and that this user may read it and its folder' }];
  }
  const checks: Check[] = [{ name: 'connection', status: 'ok', detail: `SQLite ${f.sqliteVersion}, ${f.path}, ${formatBytes((f.pageCount ?? 0) * (f.pageSize ?? 0))}` }];
  const schema = schemaCheck(f.hasJobsTable === true, f.schemaVersion ?? 0, f.knownVersion, `the file ${f.path}`);
  checks.push(schema);
  if (schema.status === 'fail' && !f.hasJobsTable) return checks;
  checks.push(indexCheck(f.expectedIndexes, f.indexes ?? []));
  checks.push(
    f.journalMode === 'wal'
      ? { name: 'journal mode', status: 'ok', detail: 'wal: readers never wait for the writer, and several processes share the file' }
      : {
          name: 'journal mode',
          status: 'fail',
          detail: `${f.journalMode}: readers and the writer block each other, and workers in other processes stall; Spool sets WAL when it opens the file, so something switched it back`,
          fix: `with every Spool process stopped: sqlite3 ${f.path} 'PRAGMA journal_mode=WAL'`,
        },
  );
  const free = (f.freelistCount ?? 0) * (f.pageSize ?? 0);
  const total = (f.pageCount ?? 0) * (f.pageSize ?? 0);
  checks.push(
    free > 64 * 2 ** 20 && free > total / 4
      ? { name: 'free space', status: 'warn', detail: `${formatBytes(free)} of ${formatBytes(total)} is free pages (left by deleted jobs); the file does not shrink by itself`, fix: `when no Spool process runs: sqlite3 ${f.path} VACUUM` }
      : { name: 'free space', status: 'ok', detail: `${formatBytes(free)} of free pages` },
  );
  checks.push(leaseCheck(f.expiredLeases ?? 0));
  return checks;
}

function judgePostgres(f: PostgresFacts, plan: Plan): Check[] {
  if (!f.connected) {
    return [{ name: 'connection', status: 'fail', detail: `cannot connect: ${f.error}`, fix: 'check --db / SPOOL_DATABASE_URL (host, port, user, password, database) and that the server accepts connections from here' }];
  }
  const checks: Check[] = [{ name: 'connection', status: 'ok', detail: `PostgreSQL ${f.serverVersion}` }];
  if (f.error !== undefined) {
    checks.push({ name: 'inspection', status: 'fail', detail: `a read-only query failed: ${f.error}`, fix: "grant this user read access to the schema's tables and to pg_stat_activity" });
    return checks;
  }
  const schema = schemaCheck(f.hasJobsTable === true, f.schemaVersion ?? 0, f.knownVersion, `schema ${f.schema}`);
  checks.push(schema);
  if (f.hasJobsTable) checks.push(indexCheck(f.expectedIndexes, f.indexes ?? []));
  checks.push(autovacuumCheck(f));
  checks.push(connectionCheck(f, plan));
  if (f.hasJobsTable) checks.push(leaseCheck(f.expiredLeases ?? 0));
  return checks;
}

function schemaCheck(hasJobs: boolean, version: number, known: number, where: string): Check {
  if (!hasJobs && version === 0) {
    return { name: 'schema', status: 'fail', detail: `no Spool tables in ${where}`, fix: 'check --db (and --schema): Spool creates its tables the first time a queue opens the database' };
  }
  if (version > known) {
    return { name: 'schema', status: 'fail', detail: `version ${version}, written by a newer Spool; this one knows ${known}`, fix: 'upgrade spool here to the version your workers run' };
  }
  if (version < known) {
    return { name: 'schema', status: 'warn', detail: `version ${version}; this Spool has ${known - version} more migration(s), applied the next time it opens the database` };
  }
  return { name: 'schema', status: 'ok', detail: `version ${version}, as this Spool expects` };
}

function indexCheck(expected: ExpectedIndex[], found: FoundIndex[]): Check {
  const byName = new Map(found.map((i) => [i.name, i]));
  const missing = expected.filter((e) => !byName.has(e.name));
  const invalid = expected.filter((e) => byName.get(e.name)?.valid === false);
  if (missing.length === 0 && invalid.length === 0) return { name: 'indexes', status: 'ok', detail: `${expected.length} of ${expected.length} present${found.some((i) => !i.valid) ? '' : ' and valid'}` };
  const parts = [
    missing.length > 0 ? `missing: ${missing.map((m) => m.name).join(', ')}` : '',
    invalid.length > 0 ? `invalid (a CREATE INDEX CONCURRENTLY failed half-way): ${invalid.map((m) => m.name).join(', ')}` : '',
  ].filter(Boolean);
  return {
    name: 'indexes',
    status: 'fail',
    detail: `${parts.join('; ')}; claims and listings scan the table without them`,
    fix: [...missing.map((m) => m.sql), ...invalid.map((m) => `REINDEX INDEX ${m.name};`)].join('\n'),
  };
}

function autovacuumCheck(f: PostgresFacts): Check {
  if (!f.autovacuum || !f.trackCounts) {
    return {
      name: 'autovacuum',
      status: 'fail',
      detail: `${!f.autovacuum ? 'autovacuum is off' : 'track_counts is off (autovacuum needs it)'} on this server: every job leaves dead row versions behind (a claim and a finish each write one), and the tables and their indexes grow without end`,
      fix: 'set autovacuum = on and track_counts = on in postgresql.conf, then SELECT pg_reload_conf()',
    };
  }
  const tables = f.tables ?? [];
  if (tables.length === 0) return { name: 'autovacuum', status: 'ok', detail: 'on (no Spool tables yet)' };
  const off = tables.filter((t) => ['false', 'off'].includes(t.options.autovacuum_enabled ?? ''));
  if (off.length > 0) {
    const names = off.map((t) => `${f.schema}.${t.name}`);
    return {
      name: 'autovacuum',
      status: 'fail',
      detail: `turned off for ${names.join(', ')}: dead rows from finished jobs are never reclaimed`,
      fix: names.map((n) => `ALTER TABLE ${n} RESET (autovacuum_enabled);`).join('\n'),
    };
  }
  // Behind: many dead rows, and many beside the live ones (a big table with a few dead is fine).
  const behind = tables.filter((t) => t.deadRows > 50_000 && t.deadRows > 0.2 * t.liveRows);
  if (behind.length > 0) {
    const t = behind.sort((a, b) => b.deadRows - a.deadRows)[0]!;
    return {
      name: 'autovacuum',
      status: 'warn',
      detail: `behind on ${f.schema}.${t.name}: ${formatCount(t.deadRows)} dead rows beside ${formatCount(t.liveRows)} live ones; it ${t.lastAutovacuum ? `last ran ${t.lastAutovacuum.toISOString()}` : 'has not run on it yet'}`,
      fix: `VACUUM (ANALYZE) ${f.schema}.${t.name}; if it keeps falling behind, raise autovacuum_vacuum_cost_limit or autovacuum_max_workers`,
    };
  }
  const dead = tables.reduce((sum, t) => sum + t.deadRows, 0);
  const live = tables.reduce((sum, t) => sum + t.liveRows, 0);
  return { name: 'autovacuum', status: 'ok', detail: `on for ${tables.map((t) => t.name).join(', ')}; ${formatCount(dead)} dead rows beside ${formatCount(live)} live` };
}

function connectionCheck(f: PostgresFacts, plan: Plan): Check {
  const available = f.maxConnections! - f.reservedConnections!;
  const inUse = f.connectionsInUse!;
  const spool = f.spoolConnections!;
  const now = `${inUse} of ${available} connections in use (max_connections ${f.maxConnections}, ${f.reservedConnections} reserved), ${spool} of them Spool's on schema ${f.schema}`;
  const raise = 'raise max_connections (a restart), lower openQueue({ pool: { max } }) (a worker needs 2 whatever its concurrency), or run fewer processes';
  if (plan.processes !== undefined) {
    const pool = plan.pool ?? DEFAULT_POOL;
    // Each process: its pool, plus one dedicated LISTEN connection for the change feed.
    const needed = plan.processes * (pool + 1);
    const others = inUse - spool;
    const budget = `${plan.processes} process(es) × (pool ${pool} + 1 listener) = ${needed}, beside ${others} used by others, against ${available} available`;
    if (needed + others > available) return { name: 'connections', status: 'fail', detail: `${budget}: ${needed + others - available} too many`, fix: raise };
    return { name: 'connections', status: 'ok', detail: `${budget}; ${now}` };
  }
  if (inUse >= 0.95 * available) return { name: 'connections', status: 'fail', detail: `${now}: new processes will be refused`, fix: raise };
  if (inUse >= 0.8 * available) return { name: 'connections', status: 'warn', detail: `${now}: little headroom`, fix: raise };
  return { name: 'connections', status: 'ok', detail: `${now}; pass --processes N [--pool M] to check a planned deployment` };
}

function leaseCheck(expired: number): Check {
  if (expired === 0) return { name: 'leases', status: 'ok', detail: 'no running job has outlived its lease' };
  return {
    name: 'leases',
    status: 'warn',
    detail: `${formatCount(expired)} running job(s) outlived their lease: their worker stopped without releasing them`,
    fix: 'nothing to do if workers for their names run: the next claim takes them again; otherwise start one (spool worker)',
  };
}

function formatBytes(n: number): string {
  if (n < 1_024) return `${n} B`;
  if (n < 2 ** 20) return `${(n / 1_024).toFixed(0)} kB`;
  if (n < 2 ** 30) return `${(n / 2 ** 20).toFixed(1)} MB`;
  return `${(n / 2 ** 30).toFixed(2)} GB`;
}
