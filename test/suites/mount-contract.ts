import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { openQueue, type Queue } from '../../src/index.ts';
import { createSpoolServer, type SpoolServer } from '../../src/server/index.ts';
import { TestSocket } from '../support/server.ts';
import { tempDir } from '../support/sqlite.ts';

/** A host application serving Spool under `prefix` ('' = the root), listening on 127.0.0.1, port 0. */
export interface Mounted {
  /** The host application's http.Server. */
  server: Server;
  /** http://127.0.0.1:<port> (no prefix). */
  origin: string;
  close(): Promise<void>;
}

/** How one framework mounts a SpoolServer: it must also serve GET /hello → 'host app' of its own. */
export type Mount = (spool: SpoolServer, prefix: string) => Promise<Mounted>;

/** GET through node:http, so the Host and Origin headers can be anything. */
function rawRequest(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The mount contract: one suite of cases every framework passes, at the root and under /jobs — the API with
 * bodies intact, errors as JSON, the page's base href, the Host check, the WebSocket at <prefix>/api/events,
 * and the host application's own routes and WebSocket upgrades left alone.
 */
export function mountContract(framework: string, mount: Mount): void {
  for (const prefix of ['', '/jobs']) {
    describe(`mount contract: ${framework} at ${prefix || '/'}`, () => {
      async function setup() {
        const { dir, cleanup } = tempDir();
        const queue: Queue = await openQueue(`sqlite:${join(dir, 'spool.db')}`);
        const spool = createSpoolServer(queue, { basePath: prefix, dashboardDir: false });
        const mounted = await mount(spool, prefix);
        const base = `${mounted.origin}${prefix}`;
        return {
          queue, spool, mounted, base,
          async teardown() {
            await spool.close();
            await mounted.close();
            await queue.close();
            cleanup();
          },
        };
      }
      const it = (name: string, fn: (ctx: Awaited<ReturnType<typeof setup>>) => Promise<void>) =>
        test(name, async () => {
          const ctx = await setup();
          try {
            await fn(ctx);
          } finally {
            await ctx.teardown();
          }
        });

      it('serves the API under the prefix, request bodies intact, and leaves the host routes alone', async ({ base, mounted }) => {
        const features = (await (await fetch(`${base}/api/features`)).json()) as { basePath: string };
        assert.equal(features.basePath, prefix);
        const added = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'mail', data: { to: 'ü@x' } }) });
        assert.equal(added.status, 201);
        const { id } = (await added.json()) as { id: string };
        const job = (await (await fetch(`${base}/api/jobs/${id}`)).json()) as { data: unknown };
        assert.deepEqual(job.data, { to: 'ü@x' });
        const list = (await (await fetch(`${base}/api/jobs?limit=5`)).json()) as { jobs: unknown[] };
        assert.equal(list.jobs.length, 1);
        assert.equal(await (await fetch(`${mounted.origin}/hello`)).text(), 'host app');
        // A DELETE with no body over real HTTP (it answered 500 once: the body limiter read a body stream the
        // node adapter gives every DELETE, and rebuilding the request threw).
        const deleted = await fetch(`${base}/api/jobs/${id}`, { method: 'DELETE' });
        assert.equal(deleted.status, 200, await deleted.clone().text());
        assert.deepEqual(await deleted.json(), { id, deleted: true });
      });

      it('answers errors as JSON under the prefix', async ({ base }) => {
        const r = await fetch(`${base}/api/jobs/424242`);
        assert.equal(r.status, 404);
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'JOB_NOT_FOUND');
        const bad = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
        assert.equal(bad.status, 400);
        assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'BAD_JSON');
      });

      it('serves the page with <base href> at the prefix, and refuses a foreign Host', async ({ base }) => {
        const page = await (await fetch(`${base}/`)).text();
        assert.match(page, new RegExp(`<base href="${prefix}/">`));
        const foreign = await rawRequest(`${base}/api/features`, { host: 'evil.example' });
        assert.equal(foreign.status, 403);
        assert.equal(JSON.parse(foreign.body).error.code, 'FORBIDDEN_HOST');
      });

      it('WebSocket at <prefix>/api/events: subscribe, then see a job added over HTTP; a foreign Origin is refused', async ({ base }) => {
        const wsUrl = `${base.replace('http', 'ws')}/api/events`;
        const socket = await TestSocket.open(wsUrl);
        try {
          await socket.next((m) => m.type === 'hello', 'hello');
          socket.send({ subscribe: { names: ['live'] } });
          await socket.next((m) => m.type === 'subscribed', 'the subscription');
          const { id } = (await (await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'live' }) })).json()) as { id: string };
          const event = await socket.next((m) => m.type === 'added', 'the added event');
          assert.equal((event.job as { id: string }).id, id);
        } finally {
          await socket.close();
        }
        await assert.rejects(TestSocket.open(wsUrl, { headers: { origin: 'http://evil.example' } }), (e: { status?: number; body?: string }) => e.status === 403 && /FORBIDDEN_ORIGIN/.test(e.body ?? ''));
      });

      it("the host's own WebSocket upgrades on the same server keep working", async ({ mounted }) => {
        const other = new WebSocketServer({ noServer: true });
        mounted.server.on('upgrade', (req, socket, head) => {
          if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`echo ${m}`)));
        });
        try {
          const ws = new WebSocket(`${mounted.origin.replace('http', 'ws')}/other`);
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('error', reject);
          });
          const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
          ws.send('hi');
          assert.equal(await reply, 'echo hi');
          ws.close();
        } finally {
          other.close();
        }
      });
    });
  }
}
