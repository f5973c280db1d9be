import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { getRequestListener } from '@hono/node-server';
import { ValidationError } from '../errors.ts';
import type { Queue } from '../queue.ts';
import { buildApp } from './app.ts';
import { Hub, type HubOptions } from './hub.ts';
import { ServerMetrics } from './metrics.ts';
import { LOOPBACK_HOSTS, resolveServerOptions, type SpoolServerOptions } from './options.ts';
import { features } from './routes/features.ts';
import { attachWebSocket } from './websocket.ts';

/** A running standalone server (spool serve). */
export interface ListeningServer {
  /** The node http.Server. */
  server: Server;
  /** http://host:port with the base path. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Spool's API, live events, metrics and dashboard, ready to mount into any Node HTTP stack. */
export interface SpoolServer {
  /** The fetch handler (Request → Response): Hono `app.mount('/jobs', spool.fetch)`, Bun, Deno, tests. */
  fetch: (request: Request) => Promise<Response>;
  /**
   * The node:http listener: `http.createServer(spool.handle)`, Express `app.use('/jobs', spool.handle)`.
   * It never replaces the global Request/Response of the host application.
   */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Takes WebSocket upgrades for `<basePath>/api/events` from the host's http.Server (others untouched). Returns detach. */
  attach(server: Server): () => void;
  /**
   * Listens on its own http.Server (default 127.0.0.1:7700). Refuses a non-loopback host without a token
   * (ValidationError), so a queue is never open to the network by accident.
   */
  listen(options?: { host?: string; port?: number }): Promise<ListeningServer>;
  /** Closes live connections, servers started by listen(), and detaches from attached servers. The queue stays open. */
  close(): Promise<void>;
  readonly basePath: string;
  /** The metrics registry (prom-client), e.g. to merge into your own. */
  readonly metrics: ServerMetrics;
}

/**
 * Creates the server for a queue. Safe defaults: no token means loopback only (listen() refuses anything
 * else); requests whose Host or Origin is not the server's own get 403; `readOnly` refuses writes; every
 * response carries a Content-Security-Policy. Cost at rest: nothing until a WebSocket client subscribes (then
 * one change-feed subscription for all clients).
 */
export function createSpoolServer(queue: Queue, options: SpoolServerOptions & { hub?: HubOptions } = {}): SpoolServer {
  const { hub: hubOptions, ...serverOptions } = options ?? {};
  const o = resolveServerOptions(serverOptions);
  const hub = new Hub(queue, o.logger, hubOptions, () => {
    const f = features(queue, o);
    return { version: f.version, store: f.store, readOnly: f.readOnly };
  });
  const metrics = new ServerMetrics(queue, hub);
  const app = buildApp(queue, o, { metrics: () => metrics.render() });
  const fetch = async (request: Request) => app.fetch(request);
  const handle = getRequestListener(fetch, {
    overrideGlobalObjects: false,
    errorHandler: (error) => {
      o.logger.error(`spool server: ${(error as Error)?.message ?? error}`);
      return new Response(JSON.stringify({ error: { code: 'INTERNAL', message: 'the server failed to answer this request' } }), {
        status: 500,
        headers: { 'Content-Type': 'application/json' },
      });
    },
  }) as SpoolServer['handle'];
  const detachers = new Set<() => void>();
  const listening = new Set<ListeningServer>();

  const attach = (server: Server) => {
    const detach = attachWebSocket(server, hub, o);
    detachers.add(detach);
    return () => {
      detachers.delete(detach);
      detach();
    };
  };

  const listen = async (l: { host?: string; port?: number } = {}): Promise<ListeningServer> => {
    const host = l.host ?? '127.0.0.1';
    const port = l.port ?? 7700;
    if (!LOOPBACK_HOSTS.includes(host.toLowerCase()) && o.token === undefined) {
      throw new ValidationError([
        `host ${JSON.stringify(host)} is reachable from other machines, and no token is set: set SPOOL_TOKEN (or the token option) to a random secret, or listen on 127.0.0.1`,
      ]);
    }
    if (o.allowedHosts !== 'any') for (const h of hostsOf(host)) o.allowedHosts.add(h);
    const server = createServer(handle);
    const detach = attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as AddressInfo).port;
    const shown = host.includes(':') ? `[${host}]` : host;
    const entry: ListeningServer = {
      server,
      port: bound,
      url: `http://${shown}:${bound}${o.basePath}`,
      close: async () => {
        listening.delete(entry);
        detach();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    listening.add(entry);
    return entry;
  };

  return {
    fetch,
    handle,
    attach,
    listen,
    basePath: o.basePath,
    metrics,
    async close() {
      hub.close();
      metrics.close();
      for (const detach of [...detachers]) detach();
      detachers.clear();
      await Promise.all([...listening].map((l) => l.close()));
    },
  };
}

/** The Host names a server bound to `host` answers to: itself, or every address of this machine for a wildcard. */
function hostsOf(host: string): string[] {
  const h = host.toLowerCase();
  if (h !== '0.0.0.0' && h !== '::' && h !== '[::]') return [h.includes(':') && !h.startsWith('[') ? `[${h}]` : h];
  const addresses = Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a ? [a.family === 'IPv6' ? `[${a.address.toLowerCase()}]` : a.address] : []));
  return [hostname().toLowerCase(), ...addresses];
}
