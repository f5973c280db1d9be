import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { checkHostAndOrigin, checkToken, TOKEN_PROTOCOL_PREFIX } from './guard.ts';
import type { HttpError } from './http-errors.ts';
import type { Hub } from './hub.ts';
import type { ResolvedServerOptions } from './options.ts';

/** The subprotocol the server selects; a browser sends ['spool', 'spool.bearer.<base64url token>']. */
export const PROTOCOL = 'spool';

/** Largest message a client may send (a subscription): 64 KiB. */
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * WebSocket upgrades for our path only (`<basePath>/api/events`), taken from the host's http.Server 'upgrade'
 * event. Upgrades for any other path are left untouched for the host's other listeners (we never end a socket
 * that is not ours). Ours pass the same Host/Origin and token checks as HTTP requests, then join the hub.
 * Returns the function that detaches.
 */
export function attachWebSocket(server: Server, hub: Hub, o: ResolvedServerOptions): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });
  const path = `${o.basePath}/api/events`;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (req.url ?? '').split('?')[0];
    if (pathname !== path) return;
    const refused =
      checkHostAndOrigin(req.headers.host, req.headers.origin, o) ??
      checkToken(req.headers.authorization, req.headers['sec-websocket-protocol'] as string | undefined, o.token);
    if (refused) return reject(socket, refused);
    wss.handleUpgrade(req, socket, head, (ws) => hub.add(ws));
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    wss.close();
  };
}

function reject(socket: Duplex, error: HttpError): void {
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  const headers = Object.entries(error.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${error.status} ${error.code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`,
  );
}

export { TOKEN_PROTOCOL_PREFIX };
