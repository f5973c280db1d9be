/**
 * `spool/server`: Spool's HTTP API, live WebSocket events, Prometheus metrics and dashboard, mountable into
 * node:http, Express, Fastify or Hono under any prefix. See docs/API.md ("Server in your own app").
 */
export { createSpoolServer, type SpoolServer, type ListeningServer } from './create-server.ts';
export type { SpoolServerOptions } from './options.ts';
export type { HubOptions } from './hub.ts';
export type { Features } from './routes/features.ts';
export { fastifySpool } from './mount/fastify.ts';
export { PROTOCOL as WEBSOCKET_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from './websocket.ts';
