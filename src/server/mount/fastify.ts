import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { SpoolServer } from '../create-server.ts';

/** The request and reply a Fastify route handler gets, as far as the mount uses them. */
interface FastifyRouteArgs {
  // Fastify types these for HTTP/1 and HTTP/2 servers alike; the mount supports HTTP/1 (node:http) servers.
  req: { raw: unknown };
  reply: { hijack(): void; raw: unknown };
}

/** The part of a Fastify instance the mount uses (typed here so Spool does not depend on Fastify). */
interface FastifyScope {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(type: string, parser: (req: unknown, payload: unknown, done: (err: null, body?: unknown) => void) => void): void;
  route(options: { method: string[]; url: string; handler: (req: FastifyRouteArgs['req'], reply: FastifyRouteArgs['reply']) => void }): unknown;
}
interface FastifyLike {
  register(plugin: (instance: FastifyScope, opts: Record<string, unknown>, done: (err?: Error) => void) => void, options: { prefix: string }): unknown;
  server: Server;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/**
 * Mounts Spool into a Fastify app under `prefix` (the same as the server's basePath): every request under it
 * is handed, unparsed, to Spool's handler (Fastify's body parsers are switched off inside the prefix only),
 * and WebSocket upgrades for `<prefix>/api/events` are taken from Fastify's http.Server.
 *
 *   const spool = createSpoolServer(queue, { basePath: '/jobs' });
 *   fastifySpool(app, spool, '/jobs');
 */
export function fastifySpool(app: FastifyLike, spool: SpoolServer, prefix = spool.basePath): void {
  app.register(
    (instance, _opts, done) => {
      instance.removeAllContentTypeParsers();
      instance.addContentTypeParser('*', (_req, _payload, next) => next(null));
      const handler = (req: FastifyRouteArgs['req'], reply: FastifyRouteArgs['reply']) => {
        reply.hijack();
        spool.handle(req.raw as IncomingMessage, reply.raw as ServerResponse);
      };
      instance.route({ method: METHODS, url: '/', handler });
      instance.route({ method: METHODS, url: '/*', handler });
      done();
    },
    { prefix },
  );
  spool.attach(app.server);
}
