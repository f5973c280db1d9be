import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { JobFailedError, JobNotFoundError, JobStateError, SpoolError, StoreError, ValidationError } from '../errors.ts';
import { ScheduleNotFoundError } from '../schedules/schedule-admin.ts';
import type { Logger } from '../logger.ts';

/** An error the server answers with its own status and code (auth, host, read-only, body, routing). */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The JSON every error response carries. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: string[] };
}

/**
 * Maps any error to `{ error: { code, message } }` and a status: bad input 400, unknown job 404, wrong state
 * 409, a database that does not answer 503; anything unexpected 500 (logged, with no detail sent).
 */
export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  const { status, body, headers } = describe(error, logger);
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json(body, status);
}

function describe(error: unknown, logger: Logger): { status: ContentfulStatusCode; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.status, body: { error: { code: error.code, message: error.message } }, headers: error.headers };
  if (error instanceof ValidationError) return { status: 400, body: { error: { code: error.code, message: error.message, issues: error.issues } }, headers: {} };
  if (error instanceof JobNotFoundError || error instanceof ScheduleNotFoundError) return { status: 404, body: { error: { code: error.code, message: error.message } }, headers: {} };
  if (error instanceof JobStateError || error instanceof JobFailedError) return { status: 409, body: { error: { code: error.code, message: error.message } }, headers: {} };
  if (error instanceof StoreError) {
    logger.warn(`spool server: ${error.message}`);
    return { status: 503, body: { error: { code: 'STORE_UNAVAILABLE', message: 'the database did not answer; try again' } }, headers: { 'Retry-After': '1' } };
  }
  if (error instanceof SpoolError) return { status: 400, body: { error: { code: error.code, message: error.message } }, headers: {} };
  logger.error(`spool server: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'the server failed to answer this request; see its log' } }, headers: {} };
}
