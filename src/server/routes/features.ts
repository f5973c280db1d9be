import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import type { Queue } from '../../queue.ts';
import { capabilities } from '../capabilities.ts';
import type { ResolvedServerOptions } from '../options.ts';

/** The package version, read once (from src/ or dist/, package.json is two levels up). */
const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** What a client (the dashboard, a script) needs to know before it calls anything: what this server has. */
export interface Features {
  version: string;
  store: 'sqlite' | 'postgres';
  readOnly: boolean;
  /** A token is required (Authorization: Bearer, or the WebSocket subprotocol spool.bearer.<base64url>). */
  auth: boolean;
  basePath: string;
  features: {
    websocket: boolean;
    countsExact: boolean;
    throughput: boolean;
    metrics: boolean;
    flowControl: boolean;
    schedules: boolean;
  };
}

/** GET /api/features. */
export function featureRoutes(queue: Queue, o: ResolvedServerOptions): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json(features(queue, o)));
  return app;
}

export function features(queue: Queue, o: ResolvedServerOptions): Features {
  const caps = capabilities(queue);
  return {
    version: VERSION,
    store: queue.store.kind,
    readOnly: o.readOnly,
    auth: o.token !== undefined,
    basePath: o.basePath,
    features: { websocket: true, countsExact: true, throughput: true, metrics: true, ...caps },
  };
}
