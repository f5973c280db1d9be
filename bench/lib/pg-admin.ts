import pg from 'pg';

/** Where the benchmark finds PostgreSQL: env BENCH_PG_URL, else the local test database. */
export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Host and port of PG_URL, for the wire counter. */
export function pgTarget(url = PG_URL): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}

/** PG_URL pointed at another port on the same host (the wire counter). */
export function pgUrlViaPort(port: number, url = PG_URL): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** A fresh, unused schema name: bench_<system>_<time>_<random>. */
export function freshSchema(system: string): string {
  return `bench_${system.replace(/[^a-z0-9]/g, '_')}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

/** Runs fn with one admin connection (set up, seed, inspect, drop), closed after. */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>, url = PG_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string, url = PG_URL): Promise<void> {
  await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`), url);
}

/**
 * Copies one existing row of `table` n times in ONE statement (INSERT … SELECT … generate_series),
 * leaving out the id and generated columns so their defaults fill them (or `idExpr`, for a table whose
 * id has no default): how W7 puts a million finished jobs into a table fast, without knowing each system's
 * column types. Then ANALYZE, as autovacuum would soon after such an insert, so plans see the table as it is,
 * and CHECKPOINT, so the seed is on disk before the clock starts.
 */
export async function cloneRow(client: pg.Client, schema: string, table: string, where: string, n: number, idExpr?: string): Promise<void> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = $2 AND column_name <> 'id'
        AND is_generated = 'NEVER' AND is_identity = 'NO'
      ORDER BY ordinal_position`,
    [schema, table],
  );
  const cols = rows.map((r) => `"${r.column_name}"`).join(', ');
  const source = await client.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}" WHERE ${where}`);
  if (source.rows[0].n !== 1) throw new Error(`cloneRow: expected one row of ${schema}.${table} where ${where}, found ${source.rows[0].n}`);
  await client.query(
    `INSERT INTO "${schema}"."${table}" (${idExpr ? 'id, ' : ''}${cols})
     SELECT ${idExpr ? `${idExpr}, ` : ''}${cols} FROM "${schema}"."${table}" CROSS JOIN generate_series(1, ${Math.floor(n)}) WHERE ${where}`,
  );
  await client.query(`ANALYZE "${schema}"."${table}"`);
  // Flush the seed's dirty pages now: a checkpoint running through the measured drain (a million rows are
  // ~300 MB of WAL, a third of max_wal_size) measured writing the seed back, not draining beside it.
  await client.query('CHECKPOINT');
}

/** The server's version string, e.g. "15.20". */
export async function pgVersion(url = PG_URL): Promise<string> {
  return withAdmin(async (c) => (await c.query('SHOW server_version')).rows[0].server_version as string, url);
}
