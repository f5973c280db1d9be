import { DEFAULT_DATABASE_URL } from '../index.ts';

/** The database flags every command that opens a queue takes. */
export interface DbFlags {
  db?: string;
  schema?: string;
}

/** Where the CLI connects, and why there. */
export interface CliConfig {
  url: string;
  /** Which rule chose the URL: the --db flag, env SPOOL_DATABASE_URL, or the default. */
  source: 'flag' | 'env' | 'default';
  /** PostgreSQL schema (--schema, then env SPOOL_SCHEMA); undefined means Spool's default, 'spool'. */
  schema?: string;
}

/**
 * Resolves the connection once, for every command, in API.md's order: --db, then SPOOL_DATABASE_URL, then
 * sqlite:./spool.db. Pure (no I/O), so the rule is tested without a process.
 */
export function resolveConfig({ flags, env }: { flags: DbFlags; env: Record<string, string | undefined> }): CliConfig {
  const schema = nonEmpty(flags.schema) ?? nonEmpty(env.SPOOL_SCHEMA);
  const fromFlag = nonEmpty(flags.db);
  if (fromFlag) return { url: fromFlag, source: 'flag', schema };
  const fromEnv = nonEmpty(env.SPOOL_DATABASE_URL);
  if (fromEnv) return { url: fromEnv, source: 'env', schema };
  return { url: DEFAULT_DATABASE_URL, source: 'default', schema };
}

/** The URL with any password replaced, for messages. */
export function displayUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:…@');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
