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

/** Spool on PostgreSQL at `url`, a fresh schema per queue (dropped after), at its defaults. */
export function makeSpoolPostgres(url = PG_URL): Adapter {
  return {
  id: 'spool-postgres',
  label: 'Spool (PostgreSQL)',
  store: 'postgres',
  workloads: ['W1', 'W2', 'W3', 'W3L', 'W3K', 'W3F', 'W4', 'W5', 'W6', 'W7', 'W8'],
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
      // Direct SQL on the live table (pending and running jobs only): stays cheap however many finished
      // jobs the table next to it holds.
      unfinished: async (name) => {
        if (!reader) {
          reader = new pg.Client({ connectionString: url });
          await reader.connect();
        }
        const { rows } = await reader.query(`SELECT count(*)::int AS n FROM "${schema}".jobs_live WHERE name = $1`, [name]);
        return rows[0].n as number;
      },
      // The finished row, copied n times in the finished table with fresh ids from the job sequence.
      seedFinished: async (name, n) => {
        const id = await completeOneJob(queue, name);
        await withAdmin(async (client) => {
          await cloneRow(client, schema, 'jobs_done', `id = ${Number(id)}`, n, `nextval('"${schema}".job_ids')`);
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
