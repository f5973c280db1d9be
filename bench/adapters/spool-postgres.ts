import pg from 'pg';
import { openQueue, ValidationError } from '../../src/index.ts';
import type { Adapter } from './adapter.ts';
import { cloneRow, dropSchema, freshSchema, PG_URL, pgTarget, pgUrlViaPort, withAdmin } from '../lib/pg-admin.ts';
import { PgWireCounter } from '../lib/pg-wire-counter.ts';
import { completeOneJob, SpoolSession } from './spool-session.ts';

/**
 * True when openQueue refused a postgres:// URL as not (yet) supported, as it does before the PostgreSQL
 * store lands. Any other failure is a real one and must surface.
 */
function isUnsupportedUrl(error: unknown): boolean {
  return error instanceof ValidationError && /not a Spool database URL|not supported|unsupported/i.test(error.message);
}

/** The job table: whichever table of the schema has the job columns (the store names it). */
async function jobTable(client: pg.Client, schema: string): Promise<string> {
  const { rows } = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name IN ('status', 'name', 'data')
      GROUP BY table_name HAVING count(*) = 3`,
    [schema],
  );
  if (rows.length !== 1) throw new Error(`spool-postgres: expected one job table in schema ${schema}, found ${rows.length}`);
  return rows[0]!.table_name;
}

/** Spool on PostgreSQL at `url`, a fresh schema per queue (dropped after), at its defaults. */
export function makeSpoolPostgres(url = PG_URL): Adapter {
  return {
  id: 'spool-postgres',
  label: 'Spool (PostgreSQL)',
  store: 'postgres',
  workloads: ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7'],
  variants: [{ id: 'default', settings: 'openQueue({ url, schema }) defaults (pool, synchronous_commit on); worker defaults' }],
  counting: 'queue.stats() (the store\'s own counter); cross-checked at the wire (frontend Query/Execute messages) in W5',
  notes: 'progress: ctx.progress() (coalesced, written by the worker tick); listing: queue.listJobs({ name, limit }), one statement',
  async unavailable() {
    const schema = freshSchema('probe');
    try {
      const queue = await openQueue({ url, schema });
      await queue.close();
      return null;
    } catch (error) {
      if (isUnsupportedUrl(error)) return `openQueue rejects postgres URLs on this branch: ${(error as Error).message}`;
      throw error;
    } finally {
      await dropSchema(schema, url);
    }
  },
  async open(_variant, options) {
    const schema = freshSchema('spool');
    const wire = options.count ? new PgWireCounter(pgTarget(url)) : undefined;
    const queueUrl = wire ? pgUrlViaPort(await wire.start(), url) : url;
    const queue = await openQueue({ url: queueUrl, schema });
    let reader: pg.Client | undefined;
    return new SpoolSession(queue, {
      unfinished: async (name) => {
        if (!reader) {
          reader = new pg.Client({ connectionString: url });
          await reader.connect();
        }
        const table = await jobTable(reader, schema);
        const { rows } = await reader.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}" WHERE status IN ('pending', 'running') AND name = $1`, [name]);
        return rows[0].n as number;
      },
      seedFinished: async (name, n) => {
        const id = await completeOneJob(queue, name);
        await withAdmin(async (client) => {
          await cloneRow(client, schema, await jobTable(client, schema), `id = '${id.replace(/'/g, "''")}'`, n);
        }, url);
      },
      cleanup: async () => {
        await reader?.end();
        await wire?.stop();
        await dropSchema(schema, url);
      },
      wire: wire ? () => wire.snapshot() : undefined,
    });
  },
  };
}

export const spoolPostgres = makeSpoolPostgres();
