import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './http-errors.ts';
import type { ResolvedServerOptions } from './options.ts';

/**
 * The checks every request passes before a route sees it, as pure functions (the WebSocket upgrade runs the
 * same ones on the raw request) and as Hono middleware.
 */

/** The host name of a Host header value, lower-case, without port ("[::1]:7700" → "[::1]"). */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * Refuses a Host the server does not answer to (a DNS-rebinding page reaching a local server under its own
 * name) and an Origin that is neither the request's own host nor allowed (a cross-site page writing to it).
 */
export function checkHostAndOrigin(host: string | undefined, origin: string | undefined, o: ResolvedServerOptions): HttpError | null {
  if (o.allowedHosts !== 'any') {
    if (!host) return new HttpError(403, 'FORBIDDEN_HOST', 'the request has no Host header');
    const h = host.trim().toLowerCase();
    if (!o.allowedHosts.has(h) && !o.allowedHosts.has(hostName(h))) {
      return new HttpError(
        403,
        'FORBIDDEN_HOST',
        `Host ${JSON.stringify(host.slice(0, 100))} is not one this server answers to; add it to the allowedHosts option (spool serve: --allowed-host)`,
      );
    }
  }
  if (origin !== undefined) {
    let originHost: string | undefined;
    let normalized: string | undefined;
    try {
      const url = new URL(origin);
      originHost = url.host.toLowerCase();
      normalized = url.origin;
    } catch {
      // 'null' (sandboxed frames, file://) and garbage alike
    }
    const sameOrigin = originHost !== undefined && host !== undefined && originHost === host.trim().toLowerCase();
    if (!sameOrigin && !(normalized !== undefined && o.allowedOrigins.has(normalized))) {
      return new HttpError(
        403,
        'FORBIDDEN_ORIGIN',
        `Origin ${JSON.stringify(origin.slice(0, 100))} may not call this server; only its own pages may (or add the origin to allowedOrigins)`,
      );
    }
  }
  return null;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The WebSocket subprotocol prefix that carries the token from a browser (which cannot set Authorization there). */
export const TOKEN_PROTOCOL_PREFIX = 'spool.bearer.';

/**
 * Checks the bearer token, in constant time: from `Authorization: Bearer <token>`, or for a WebSocket from a
 * `Sec-WebSocket-Protocol` entry `spool.bearer.<base64url token>`. No token configured: everything passes.
 */
export function checkToken(authorization: string | undefined, protocols: string | undefined, token: string | undefined): HttpError | null {
  if (token === undefined) return null;
  let given: string | undefined;
  const match = /^Bearer +(.+)$/i.exec(authorization?.trim() ?? '');
  if (match) given = match[1]!;
  else if (protocols) {
    const entry = protocols.split(',').map((p) => p.trim()).find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
    if (entry) given = Buffer.from(entry.slice(TOKEN_PROTOCOL_PREFIX.length), 'base64url').toString();
  }
  if (given === undefined) {
    return new HttpError(401, 'UNAUTHORIZED', 'this server needs a token: send Authorization: Bearer <token> (SPOOL_TOKEN)', {
      'WWW-Authenticate': 'Bearer realm="spool"',
    });
  }
  if (!timingSafeEqual(digest(given), digest(token))) {
    return new HttpError(401, 'UNAUTHORIZED', 'the token is wrong', { 'WWW-Authenticate': 'Bearer realm="spool", error="invalid_token"' });
  }
  return null;
}

/** Host and Origin on every request. */
export function hostGuard(o: ResolvedServerOptions): MiddlewareHandler {
  return async (c, next) => {
    const refused = checkHostAndOrigin(c.req.header('host'), c.req.header('origin'), o);
    if (refused) throw refused;
    await next();
  };
}

/** The token on the routes that need it. */
export function tokenGuard(o: ResolvedServerOptions): MiddlewareHandler {
  return async (c, next) => {
    const refused = checkToken(c.req.header('authorization'), undefined, o.token);
    if (refused) throw refused;
    await next();
  };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Read-only mode: every write gets 403, whatever the route. */
export function readOnlyGuard(o: ResolvedServerOptions): MiddlewareHandler {
  return async (c, next) => {
    if (o.readOnly && !READS.has(c.req.method)) {
      throw new HttpError(403, 'READ_ONLY', 'this server is read-only: writes are refused (readOnly option, spool serve --read-only)');
    }
    await next();
  };
}
