import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Queue } from '../queue.ts';
import { hostGuard, readOnlyGuard, tokenGuard } from './guard.ts';
import { errorResponse, HttpError } from './http-errors.ts';
import type { ResolvedServerOptions } from './options.ts';
import { featureRoutes, features } from './routes/features.ts';
import { jobTypeRoutes } from './routes/job-types.ts';
import { jobRoutes } from './routes/jobs.ts';
import { nameRoutes } from './routes/names.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { statsRoutes } from './routes/stats.ts';
import { Dashboard } from './static.ts';

/** Methods whose API routes read a JSON body (the body limit applies to these). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** What the app serves besides the API routes. */
export interface AppParts {
  /** GET /metrics: Prometheus text. */
  metrics: () => Promise<{ contentType: string; body: string }>;
}

/**
 * The request path relative to the base path: requests arrive with the prefix (node:http, Fastify) or
 * without it (Express and Hono strip it); both are routed alike.
 */
export function relativePath(pathname: string, basePath: string): string {
  if (basePath && (pathname === basePath || pathname.startsWith(`${basePath}/`))) return pathname.slice(basePath.length) || '/';
  return pathname;
}

/**
 * The one fetch handler everything mounts: security checks first (Host/Origin, then token and read-only on
 * /api), then one sub-app per resource, errors mapped in one place to `{ error: { code, message } }`.
 */
export function buildApp(queue: Queue, o: ResolvedServerOptions, parts: AppParts): Hono {
  const app = new Hono({
    getPath: (request) => {
      const url = request.url;
      const start = url.indexOf('/', url.indexOf('://') + 3);
      const end = url.indexOf('?', start);
      return relativePath(start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end), o.basePath);
    },
  });
  const dashboard = new Dashboard(o.dashboardDir);

  app.onError((error, c) => errorResponse(c, error, o.logger));
  app.notFound((c) => errorResponse(c, new HttpError(404, 'NOT_FOUND', `no route ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 200)}`), o.logger));

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      // HSTS is the host application's decision (this may be mounted in one), not a sub-route's.
      strictTransportSecurity: false,
      xFrameOptions: 'DENY',
    }),
  );
  app.use('*', hostGuard(o));
  app.use('/api/*', tokenGuard(o));
  app.use('/metrics', tokenGuard(o));
  app.use('/api/*', readOnlyGuard(o));
  const limitBody = bodyLimit({
    maxSize: o.maxBodyBytes,
    onError: () => {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body is over ${o.maxBodyBytes} bytes (maxBodyBytes); store large payloads elsewhere and pass a reference`);
    },
  });
  // Only requests whose routes read a body. Over real HTTP, @hono/node-server gives a DELETE without a body a
  // body stream anyway, and the limiter's rebuilt Request then threw inside undici (Node 20): every DELETE
  // answered 500 while the in-process tests (server.fetch, no stream) passed.
  app.use('/api/*', (c, next) => (BODY_METHODS.has(c.req.method) ? limitBody(c, next) : next()));

  app.route('/api/features', featureRoutes(queue, o));
  app.route('/api/jobs', jobRoutes(queue));
  app.route('/api/stats', statsRoutes(queue));
  app.route('/api/names', nameRoutes(queue));
  app.route('/api/schedules', scheduleRoutes(queue));
  app.route('/api/job-types', jobTypeRoutes(queue));
  app.get('/api/events', () => {
    throw new HttpError(426, 'UPGRADE_REQUIRED', 'this is the WebSocket of live job events: connect with a WebSocket client', { Upgrade: 'websocket' });
  });
  app.all('/api/*', (c) => {
    throw new HttpError(404, 'NOT_FOUND', `no API route ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 200)}; GET /api/features lists what this server has`);
  });

  app.get('/healthz', async (c) => {
    await queue.ping();
    return c.json({ ok: true, store: queue.store.kind });
  });
  app.get('/metrics', async (c) => {
    const { contentType, body } = await parts.metrics();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  app.get('*', (c) => dashboard.serve(c, relativePath(new URL(c.req.url).pathname, o.basePath), features(queue, o)));
  return app;
}
