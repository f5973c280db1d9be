import { z } from 'zod';
import { parseInput } from '../input-schemas.ts';
import { defaultLogger, type Logger } from '../logger.ts';

/** Options of createSpoolServer(). */
export interface SpoolServerOptions {
  /**
   * The path the browser sees the server under, e.g. '/jobs' when mounted with `app.use('/jobs', …)`; default ''
   * (the root). Used for the dashboard's links and the WebSocket path. Requests may arrive with the prefix (a
   * plain node:http mount, Fastify) or without it (Express and Hono strip it): both work.
   */
  basePath?: string;
  /** Bearer token required on /api, /metrics and the WebSocket; default env SPOOL_TOKEN; none: no auth. */
  token?: string;
  /** Refuse every write (403); reads, the dashboard and the WebSocket still work. Default false. */
  readOnly?: boolean;
  /**
   * Host header values (host or host:port) the server answers to; others get 403 (DNS rebinding). Default: the
   * loopback names (localhost, 127.0.0.1, [::1]) on any port, and the host `listen()` binds. 'any' turns the
   * check off: do that only behind a proxy that checks hosts, with a token.
   */
  allowedHosts?: string[] | 'any';
  /** Origins (scheme://host[:port]) other than the server's own allowed to call it from a browser; default none. */
  allowedOrigins?: string[];
  /** Largest request body; larger gets 413. Default 1 MiB + 64 KiB (the default job data limit, and room for options). */
  maxBodyBytes?: number;
  /** Directory of the built dashboard; default the package's dashboard/dist; false: serve none. */
  dashboardDir?: string | false;
  /** Where the server reports what it cannot answer with (unexpected errors, dropped clients); default stderr. */
  logger?: Logger;
}

/** The options with every default resolved. */
export interface ResolvedServerOptions {
  basePath: string;
  token: string | undefined;
  readOnly: boolean;
  allowedHosts: Set<string> | 'any';
  allowedOrigins: Set<string>;
  maxBodyBytes: number;
  dashboardDir: string | false | undefined;
  logger: Logger;
}

const DEFAULT_MAX_BODY = 1024 * 1024 + 64 * 1024;

/** Host names that only reach this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]', '::1'];

const optionsSchema = z.strictObject({
  basePath: z
    .string({ error: 'must be a path string like "/jobs" (or "" for the root)' })
    .regex(/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*\/?$/, 'must be a path like "/jobs": segments of URL-safe characters, no query or fragment')
    .optional(),
  token: z.string({ error: 'must be a string' }).min(16, 'must be at least 16 characters (use a random secret, e.g. openssl rand -hex 32)').optional(),
  readOnly: z.boolean({ error: 'must be true or false' }).optional(),
  allowedHosts: z.union([z.literal('any'), z.array(z.string().min(1, 'must not be empty'))], { error: "must be an array of host names or 'any'" }).optional(),
  allowedOrigins: z.array(z.string().url('must be an origin like https://example.com')).optional(),
  maxBodyBytes: z.number({ error: 'must be a number of bytes' }).int('must be a whole number').min(1024, 'must be at least 1024').optional(),
  dashboardDir: z.union([z.string().min(1), z.literal(false)], { error: 'must be a directory path or false' }).optional(),
  logger: z
    .custom<Logger>((v) => ['debug', 'info', 'warn', 'error'].every((k) => typeof (v as Record<string, unknown>)?.[k] === 'function'), {
      message: 'must have debug, info, warn and error functions',
    })
    .optional(),
});

/** Validates the options (ValidationError naming the field) and fills in the defaults. */
export function resolveServerOptions(options: SpoolServerOptions, env: NodeJS.ProcessEnv = process.env): ResolvedServerOptions {
  const o = parseInput(optionsSchema, options ?? {}, 'options');
  const envToken = env.SPOOL_TOKEN === '' ? undefined : env.SPOOL_TOKEN;
  const token = o.token ?? (envToken !== undefined ? parseInput(optionsSchema.shape.token, envToken, 'SPOOL_TOKEN') : undefined);
  return {
    basePath: (o.basePath ?? '').replace(/\/+$/, ''),
    token,
    readOnly: o.readOnly ?? false,
    allowedHosts: o.allowedHosts === 'any' ? 'any' : new Set([...LOOPBACK_HOSTS, ...(o.allowedHosts ?? [])].map((h) => h.toLowerCase())),
    allowedOrigins: new Set((o.allowedOrigins ?? []).map((u) => new URL(u).origin)),
    maxBodyBytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY,
    dashboardDir: o.dashboardDir,
    logger: o.logger ?? defaultLogger,
  };
}
