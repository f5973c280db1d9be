import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Logger } from '../../src/index.ts';
import { createSpoolServer, type HubOptions, type SpoolServerOptions, TOKEN_PROTOCOL_PREFIX } from '../../src/server/index.ts';
import { type Fixture, killAll, spawnFixture } from '../support/children.ts';
import { TestSocket } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';
import type { FeedDatabase } from './watch-behaviour.ts';

const TOKEN = 'hub-test-token-0123456789';

/**
 * The live-event hub over a real server (port 0): workers in other processes, many clients, slow clients,
 * subscriptions, auth — on any store.
 */
export function hubBehaviour(kind: string, factory: () => Promise<FeedDatabase>): void {
  async function setup(options: SpoolServerOptions & { hub?: HubOptions } = {}) {
    const db = await factory();
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
    const queue = await db.open();
    const spool = createSpoolServer(queue, { dashboardDir: false, logger, ...options });
    const listening = await spool.listen({ port: 0 });
    const wsUrl = `${listening.url.replace('http', 'ws')}/api/events`;
    const sockets: TestSocket[] = [];
    const children: Fixture[] = [];
    return {
      queue, spool, warnings, wsUrl,
      async connect(o: Parameters<typeof TestSocket.open>[1] = {}) {
        const s = await TestSocket.open(wsUrl, o);
        sockets.push(s);
        await s.next((m) => m.type === 'hello', 'hello');
        return s;
      },
      async startWorker(settings: Record<string, string>) {
        const fixture = spawnFixture('feed-worker.ts', { SPOOL_TEST_URL: db.url, ...(db.schema ? { SPOOL_TEST_SCHEMA: db.schema } : {}), ...settings });
        children.push(fixture);
        await fixture.waitForLine((l) => l.startsWith('ready '), 'the worker process');
        return fixture;
      },
      async teardown() {
        await Promise.all(sockets.map((s) => s.close()));
        for (const c of children) await c.stop();
        await killAll(children);
        await spool.close();
        await queue.close();
        await db.cleanup();
      },
    };
  }
  type Ctx = Awaited<ReturnType<typeof setup>>;
  const it = (name: string, fn: (ctx: Ctx) => Promise<void>, options: Parameters<typeof setup>[0] = {}) =>
    test(name, async () => {
      const ctx = await setup(options);
      try {
        await fn(ctx);
      } finally {
        await ctx.teardown();
      }
    });

  describe(`WebSocket hub: ${kind}`, () => {
    const COALESCE = 200;
    it('a worker in another process reports progress; a client subscribed to the job sees it advance, within the coalescing bound', async (ctx) => {
      await ctx.startWorker({ STEPS: '30', STEP_MS: '25', PROGRESS_MS: '20' });
      const client = await ctx.connect();
      const id = await ctx.queue.add('steps', { repo: 'a/b' }, { delay: 300 });
      client.send({ subscribe: { ids: [id] } });
      await client.next((m) => m.type === 'subscribed', 'subscribed');
      const from = client.messages.length;
      const times: number[] = [];
      const at = new Map<Record<string, unknown>, number>();
      const record = setInterval(() => {
        for (const m of client.messages.slice(from)) if (!at.has(m)) at.set(m, performance.now());
      }, 1);
      try {
        await client.next((m) => m.type === 'completed', 'the completed event', 20_000, from);
      } finally {
        clearInterval(record);
      }
      const mine = client.messages.slice(from).filter((m) => (m.job as { id?: string } | undefined)?.id === id);
      for (const m of mine) times.push(at.get(m) ?? performance.now());
      const steps = mine.filter((m) => m.type === 'progress').map((m) => ((m.job as { progress: { step: number } }).progress).step);
      assert.ok(steps.length >= 1, `progress seen: ${JSON.stringify(mine.map((m) => m.type))}`);
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'progress only advances');
      assert.equal(mine.at(-1)!.type, 'completed');
      // 30 progress writes over ~750 ms arrive as at most one message per job per coalescing window.
      const span = times.at(-1)! - times[0]!;
      assert.ok(mine.length <= Math.ceil(span / COALESCE) + 2, `${mine.length} messages in ${Math.round(span)} ms (window ${COALESCE} ms)`);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= COALESCE * 0.75, `messages ${i - 1} and ${i} only ${Math.round(times[i]! - times[i - 1]!)} ms apart`);
    }, { hub: { coalesceMs: COALESCE } });

    it('twenty clients share one change-feed subscription: the store reads do not grow with clients', async (ctx) => {
      const clients = await Promise.all(Array.from({ length: 20 }, () => ctx.connect()));
      for (const c of clients) c.send({ subscribe: { names: ['fan'] } });
      await Promise.all(clients.map((c) => c.next((m) => m.type === 'subscribed', 'subscribed')));
      await (ctx.queue.store as { listening?: () => Promise<void> }).listening?.();
      const before = ctx.queue.stats().byMethod.watch ?? 0;
      const ids = await ctx.queue.addBulk(Array.from({ length: 50 }, (_, i) => ({ name: 'fan', data: { i } })));
      for (const c of clients) await waitFor(() => c.messages.filter((m) => m.type === 'added').length === 50, 'fifty added events on every client');
      const reads = (ctx.queue.stats().byMethod.watch ?? 0) - before;
      assert.ok(reads <= 3, `one batch of 50 jobs for 20 clients was read in ${reads} statements`);
      assert.deepEqual(clients[7]!.messages.filter((m) => m.type === 'added').map((m) => (m.job as { id: string }).id).sort(), [...ids].sort());
    });

    // Loopback sockets buffer several MB in the kernel before a paused reader shows as unsent bytes, so these
    // tests send ~13 MB in rounds small enough (160 KB) for a reading client to keep up with.
    const ROUNDS = 80;
    const addRounds = async (ctx: Ctx, name: string) => {
      const blob = 'x'.repeat(8_000);
      for (let i = 0; i < ROUNDS; i++) {
        await ctx.queue.addBulk(Array.from({ length: 20 }, (_, j) => ({ name, data: { i, j, blob } })));
        await new Promise((r) => setTimeout(r, 15));
      }
    };

    it('a client that does not read gets no more events, then one resync when it catches up; the others get everything', async (ctx) => {
      const slow = await ctx.connect();
      const fast = await ctx.connect();
      for (const c of [slow, fast]) c.send({ subscribe: { names: ['big'] } });
      await Promise.all([slow, fast].map((c) => c.next((m) => m.type === 'subscribed', 'subscribed')));
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await addRounds(ctx, 'big');
      await waitFor(() => fast.messages.filter((m) => m.type === 'added').length === ROUNDS * 20, 'the fast client gets every event', 30_000);
      // (PostgreSQL's feed sends one resync when its LISTEN connection comes up: changes just before may be missed.)
      assert.deepEqual(fast.messages.filter((m) => m.type === 'resync' && /fell behind/.test(m.reason as string)), [], 'the fast client never fell behind');
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const resync = await slow.next((m) => m.type === 'resync' && /fell behind/.test(m.reason as string), 'a resync for the slow client', 30_000);
      assert.match(resync.reason as string, /fell behind; \d+ events were not sent/);
      const got = slow.messages.filter((m) => m.type === 'added').length;
      assert.ok(got < ROUNDS * 20, `the slow client was sent ${got} of ${ROUNDS * 20} events`);
    }, { hub: { dropBytes: 256 * 1024 * 1024, dropAfterMs: 120_000 } });

    it('a client that stays behind is dropped, and its memory goes with it', async (ctx) => {
      const slow = await ctx.connect();
      slow.send({ subscribe: {} });
      await slow.next((m) => m.type === 'subscribed', 'subscribed');
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await addRounds(ctx, 'big');
      await waitFor(() => ctx.warnings.some((w) => /dropped a WebSocket client/.test(w)), 'the slow client to be dropped', 30_000);
      await waitFor(async () => /spool_websocket_clients 0/.test(await (await ctx.spool.fetch(new Request('http://localhost/metrics', { headers: { host: 'localhost' } }))).text()), 'no clients left');
      slow.ws.terminate(); // its socket is paused: it would not read the server's close for 30 s
    }, { hub: { dropAfterMs: 300 } });

    it('bad messages get an error message, not a disconnect; unsubscribe stops events; counts come at most once a second', async (ctx) => {
      const client = await ctx.connect();
      for (const bad of ['not json', '{"subscribe":{"names":["bad name!"]}}', '{"subscribe":{"idz":[]}}', '{"hello":1}']) {
        const from = client.messages.length;
        client.ws.send(bad);
        const reply = await client.next((m) => m.type === 'error', `an error for ${bad}`, 5_000, from);
        assert.match((reply.error as { message: string }).message, /subscribe/);
      }
      client.send({ subscribe: { names: ['c'], counts: true } });
      await client.next((m) => m.type === 'subscribed', 'subscribed');
      for (let i = 0; i < 5; i++) await ctx.queue.add('c');
      const counts = await client.next((m) => m.type === 'counts', 'counts', 5_000);
      assert.equal((counts.counts as { pending: number }).pending >= 1, true);
      client.send({ unsubscribe: true });
      await client.next((m) => m.type === 'unsubscribed', 'unsubscribed');
      const from = client.messages.length;
      await ctx.queue.add('c');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(client.messages.slice(from).filter((m) => m.type === 'added'), []);
      assert.equal(client.ws.readyState, 1, 'still open');
    });

    it('with a token: the upgrade needs it (Authorization header, or the spool.bearer.<base64url> subprotocol)', async (ctx) => {
      await assert.rejects(TestSocket.open(ctx.wsUrl), (e: { status?: number }) => e.status === 401);
      await assert.rejects(TestSocket.open(ctx.wsUrl, { headers: { authorization: 'Bearer wrong-token-0123456789' } }), (e: { status?: number }) => e.status === 401);
      const byHeader = await ctx.connect({ headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(byHeader.ws.protocol, 'spool');
      const byProtocol = await ctx.connect({ protocols: ['spool', `${TOKEN_PROTOCOL_PREFIX}${Buffer.from(TOKEN).toString('base64url')}`] });
      assert.equal(byProtocol.ws.protocol, 'spool', 'the server answers with the plain protocol, never echoing the token');
    }, { token: TOKEN });
  });
}
