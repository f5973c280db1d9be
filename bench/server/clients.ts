// The "dashboard side" of the W3-with-clients bench, in its own process: a Spool server on the database the
// drain runs on, and N WebSocket clients subscribed to every job. Prints `ready` once all are subscribed, and
// on SIGTERM the messages the clients received, then exits. Env: URL, SCHEMA (PostgreSQL), CLIENTS.
import { openQueue } from '../../src/index.ts';
import { createSpoolServer } from '../../src/server/index.ts';
import { WebSocket } from 'ws';

const queue = await openQueue({ url: process.env.URL!, ...(process.env.SCHEMA ? { schema: process.env.SCHEMA } : {}), pool: { max: 3 } });
const server = createSpoolServer(queue, { dashboardDir: false });
const { url, close } = await server.listen({ port: 0 });
let received = 0;
const sockets = await Promise.all(
  Array.from({ length: Number(process.env.CLIENTS ?? 50) }, () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/events`, ['spool']);
      ws.on('message', (m) => {
        received++;
        if (JSON.parse(m.toString()).type === 'subscribed') resolve(ws);
      });
      ws.once('open', () => ws.send(JSON.stringify({ subscribe: {} })));
      ws.once('error', reject);
    }),
  ),
);
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void (async () => {
    for (const ws of sockets) ws.terminate();
    await server.close();
    await close();
    await queue.close();
    process.stdout.write(`received ${received}\n`);
    process.exit(0);
  })();
});
