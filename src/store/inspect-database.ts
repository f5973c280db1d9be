import { notADatabaseUrl, sqlitePath } from '../open-queue.ts';
import type { DatabaseFacts } from './inspection.ts';
import { inspectPostgres } from './postgres/inspect.ts';
import { inspectSqlite } from './sqlite/inspect.ts';

/** Reads the facts `spool doctor` judges from the database a URL names, read-only (see inspection.ts). */
export async function inspectDatabase(url: string, options: { schema?: string; now: number }): Promise<DatabaseFacts> {
  if (url.startsWith('sqlite:')) return inspectSqlite(sqlitePath(url), options.now);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return inspectPostgres(url, options.schema ?? 'spool');
  throw notADatabaseUrl(url);
}
