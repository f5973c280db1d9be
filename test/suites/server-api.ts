import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ValidationError, type Job, type Queue } from '../../src/index.ts';
import { createSpoolServer, type SpoolServerOptions } from '../../src/server/index.ts';
import { assertError, caller, writesSent } from '../support/server.ts';
import { tempDir } from '../support/sqlite.ts';

/** Opens a queue on a fresh database; `cleanup` closes it and removes the database. */
export type ServerQueueFactory = () => Promise<{ queue: Queue; cleanup: () => Promise<void> }>;

const TOKEN = 'test-token-0123456789abcdef';

/**
 * The HTTP API of API.md, route by route, on any store: good requests, bad ones (each refused with the right
 * status and a message that says what to fix, writing nothing), auth, read-only, Host/Origin, CSP.
 */
export function serverApi(kind: string, factory: ServerQueueFactory): void {
  async function setup(options: SpoolServerOptions = {}) {
    const { queue, cleanup } = await factory();
    const server = createSpoolServer(queue, { dashboardDir: false, ...options });
    return { queue, server, call: caller(server), teardown: async () => { await server.close(); await cleanup(); } };
  }
  type Ctx = Awaited<ReturnType<typeof setup>>;
  const it = (name: string, fn: (ctx: Ctx) => Promise<void>, options: SpoolServerOptions = {}) =>
    test(name, async () => {
      const ctx = await setup(options);
      try {
        await fn(ctx);
      } finally {
        await ctx.teardown();
      }
    });

  /**
   * Sends a request that must be refused, and checks that nothing changed: every job as it was. A request
   * refused for its input, auth, host or size must not even reach the store with a write statement; one refused
   * for the job's state (404, 409) may have tried a guarded UPDATE that matched no row.
   */
  async function refused(ctx: Ctx, method: string, path: string, o: Parameters<Ctx['call']>[2], status: number, code: string, says: RegExp[] = []) {
    const snapshot = async () => JSON.stringify([await ctx.queue.listJobs({ limit: 1000 }), await ctx.queue.countsByName()]);
    const before = await snapshot();
    const writes = writesSent(ctx.queue);
    const r = await ctx.call(method, path, o);
    assertError(r, status, code, says);
    if (status !== 404 && status !== 409) assert.equal(writesSent(ctx.queue), writes, `${method} ${path} was refused (${status}) but sent a write statement`);
    assert.equal(await snapshot(), before, `${method} ${path} was refused (${status}) but changed jobs`);
    return r;
  }

  describe(`HTTP API: ${kind}`, () => {
    it('every core route answers a good request', async (ctx) => {
      const { call } = ctx;
      const features = await call('GET', '/api/features');
      assert.equal(features.status, 200);
      assert.equal(features.json.store, kind);
      assert.deepEqual({ readOnly: features.json.readOnly, auth: features.json.auth }, { readOnly: false, auth: false });

      const added = await call('POST', '/api/jobs', { body: { name: 'mail', data: { to: 'a@b' }, options: { priority: 3, runAt: '2030-01-01T00:00:00Z', maxAttempts: 2 } } });
      assert.equal(added.status, 201);
      const id = added.json.id as string;
      const job = await call('GET', `/api/jobs/${id}`);
      assert.equal(job.status, 200);
      assert.deepEqual({ name: job.json.name, data: job.json.data, priority: job.json.priority, runAt: job.json.runAt, maxAttempts: job.json.maxAttempts }, {
        name: 'mail', data: { to: 'a@b' }, priority: 3, runAt: '2030-01-01T00:00:00.000Z', maxAttempts: 2,
      });

      const page = await call('GET', '/api/jobs?status=pending&name=mail&limit=10');
      assert.deepEqual((page.json.jobs as Job[]).map((j) => j.id), [id]);
      assert.equal(page.json.nextCursor, null);

      const cancelled = await call('POST', `/api/jobs/${id}/cancel`);
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.json.status, 'cancelled');
      const retried = await call('POST', `/api/jobs/${id}/retry`);
      assert.equal(retried.status, 200);
      assert.equal(retried.json.status, 'pending');

      const stats = await call('GET', '/api/stats');
      assert.deepEqual(stats.json, { counts: { pending: 1, running: 0, completed: 0, failed: 0, cancelled: 0 }, byName: { mail: { pending: 1, running: 0, completed: 0, failed: 0, cancelled: 0 } } });
      const names = await call('GET', '/api/names');
      assert.deepEqual(names.json, { names: [{ name: 'mail', counts: { pending: 1, running: 0, completed: 0, failed: 0, cancelled: 0 }, lastClaimedAt: null, paused: false, limits: null }] });
      const throughput = await call('GET', '/api/stats/throughput?minutes=5&name=mail');
      assert.equal((throughput.json.minutes as unknown[]).length, 5);

      const deleted = await call('DELETE', `/api/jobs/${id}`);
      assert.deepEqual([deleted.status, deleted.json], [200, { id, deleted: true }]);
      assert.equal((await call('GET', `/api/jobs/${id}`)).status, 404);

      assert.deepEqual((await call('GET', '/healthz')).json, { ok: true, store: kind });
      const metrics = await call('GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type')!, /text\/plain/);
      assert.match(metrics.text, /spool_store_statements_total\{method="enqueue"\} 1/);
      assert.match(metrics.text, /spool_nodejs_eventloop_lag_seconds/);
      const page0 = await call('GET', '/');
      assert.equal(page0.status, 200);
      assert.match(page0.text, /<a href="api\/jobs">/);
      assertError(await call('GET', '/api/events'), 426, 'UPGRADE_REQUIRED');
    });

    it('names and schedules routes exist; without flow control or schedules in this build they answer 501', async (ctx) => {
      const features = await ctx.call('GET', '/api/features');
      const f = features.json.features as { flowControl: boolean; schedules: boolean };
      for (const [method, path, body, has] of [
        ['POST', '/api/names/mail/pause', undefined, f.flowControl],
        ['POST', '/api/names/mail/resume', undefined, f.flowControl],
        ['PUT', '/api/names/mail/limits', { concurrency: 2 }, f.flowControl],
        ['GET', '/api/schedules', undefined, f.schedules],
        ['POST', '/api/schedules/nightly/trigger', undefined, f.schedules],
        ['POST', '/api/schedules/nightly/pause', undefined, f.schedules],
        ['POST', '/api/schedules/nightly/resume', undefined, f.schedules],
        ['DELETE', '/api/schedules/nightly', undefined, f.schedules],
      ] as const) {
        const r = await ctx.call(method, path, body === undefined ? {} : { body });
        if (!has) assertError(r, 501, 'NOT_IMPLEMENTED', [/GET \/api\/features/]);
        else assert.notEqual(r.status, 501, `${method} ${path}`);
      }
    });

    it('pause, resume and limits per name over HTTP show in GET /api/names; bad limits are a 400 naming the field', async ({ call, queue }) => {
      await queue.add('scan');
      assert.equal((await call('POST', '/api/names/scan/pause')).status, 200);
      const limits = { concurrency: 2, perKeyConcurrency: 1, rate: { max: 10, intervalMs: 1000 } };
      assert.equal((await call('PUT', '/api/names/scan/limits', { body: limits })).status, 200);
      let names = (await call('GET', '/api/names')).json.names as { name: string; paused: boolean; limits: unknown }[];
      assert.deepEqual(names.map((n) => [n.name, n.paused, n.limits]), [['scan', true, limits]]);
      assert.equal((await call('POST', '/api/names/scan/resume')).status, 200);
      names = (await call('GET', '/api/names')).json.names as typeof names;
      assert.equal(names[0]!.paused, false);
      const bad = await call('PUT', '/api/names/scan/limits', { body: { concurrency: 0 } });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.json), /limits\.concurrency must be at least 1/);
    });

    it('data search, the count of a filter, and bulk actions over HTTP', async (ctx) => {
      const { call, queue } = ctx;
      await queue.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: i < 6 ? 'scan' : 'mail', data: { repo: i % 2 ? 'a/b' : 'c/d', i } })));
      const q = (data: unknown) => encodeURIComponent(JSON.stringify(data));
      const found = await call('GET', `/api/jobs?name=scan&data=${q({ repo: 'a/b' })}&limit=2`);
      assert.equal(found.status, 200);
      assert.deepEqual((found.json.jobs as Job[]).map((j) => (j.data as { i: number }).i), [5, 3]);
      const rest = await call('GET', `/api/jobs?name=scan&data=${q({ repo: 'a/b' })}&limit=2&cursor=${found.json.nextCursor}`);
      assert.deepEqual((rest.json.jobs as Job[]).map((j) => (j.data as { i: number }).i), [1]);
      assert.deepEqual((await call('GET', `/api/jobs/count?data=${q({ repo: 'a/b' })}`)).json, { count: 4 });
      assert.deepEqual((await call('GET', '/api/jobs/count?status=pending&name=mail')).json, { count: 3 });
      const cancelled = await call('POST', '/api/jobs/bulk/cancel', { body: { filter: { name: 'mail' } } });
      assert.deepEqual([cancelled.status, cancelled.json], [200, { count: 3 }]);
      assert.deepEqual((await call('POST', '/api/jobs/bulk/retry', { body: { filter: { status: 'cancelled' } } })).json, { count: 3 });
      assert.deepEqual((await call('POST', '/api/jobs/bulk/delete', { body: { filter: { data: { repo: 'c/d' } } } })).json, { count: 5 });
      assert.deepEqual((await call('GET', '/api/jobs/count')).json, { count: 4 });
      await refused(ctx, 'GET', '/api/jobs?data=%7Bnot-json', {}, 400, 'VALIDATION', [/data must be a JSON object, URL-encoded/]);
      await refused(ctx, 'GET', `/api/jobs?data=${q([1])}`, {}, 400, 'VALIDATION', [/data must be a JSON object the job data must contain/]);
      await refused(ctx, 'GET', '/api/jobs/count?limit=5', {}, 400, 'VALIDATION', [/unknown option "limit"/]);
      await refused(ctx, 'POST', '/api/jobs/bulk/retry', { body: { filter: { status: 'pending' } } }, 400, 'VALIDATION', [/cannot be retried/]);
      await refused(ctx, 'POST', '/api/jobs/bulk/retry', { body: { status: 'failed' } }, 400, 'VALIDATION', [/unknown option "status"/]);
      await refused(ctx, 'POST', '/api/jobs/bulk/explode', { body: { filter: {} } }, 404, 'NOT_FOUND', [/use retry, cancel or delete/]);
    });

    it('pages are keyset: nextCursor walks every job once, newest first, one statement a page', async ({ queue, call }) => {
      const ids = await queue.addBulk(Array.from({ length: 25 }, (_, i) => ({ name: 'p', data: { i } })));
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const before = queue.stats().byMethod.list ?? 0;
        const r = await call('GET', `/api/jobs?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal((queue.stats().byMethod.list ?? 0) - before, 1);
        seen.push(...(r.json.jobs as Job[]).map((j) => j.id));
        cursor = r.json.nextCursor as string | null;
        pages++;
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...ids].reverse());
    });

    it('bad input is 400 (415 for a body that is not JSON) with a message naming the field, and writes nothing', async (ctx) => {
      await ctx.queue.add('existing');
      const cases: [string, string, Parameters<Ctx['call']>[2], number, string, RegExp[]][] = [
        ['POST', '/api/jobs', { raw: '{"name": "x",' }, 400, 'BAD_JSON', [/not valid JSON/]],
        ['POST', '/api/jobs', { raw: '' }, 400, 'BAD_JSON', []],
        ['POST', '/api/jobs', { raw: '[1,2]' }, 400, 'VALIDATION', [/body must be an object/]],
        ['POST', '/api/jobs', { body: { name: 5 } }, 400, 'VALIDATION', [/body\.name must be the job name, a string, got 5/]],
        ['POST', '/api/jobs', { body: { name: 'bad name!' } }, 400, 'VALIDATION', [/name may contain only letters/]],
        ['POST', '/api/jobs', { body: { name: 'x', options: { priority: 'high' } } }, 400, 'VALIDATION', [/options\.priority must be the priority/]],
        ['POST', '/api/jobs', { body: { name: 'x', options: { delay: -5 } } }, 400, 'VALIDATION', [/options\.delay must be at least 0 ms, got -5/]],
        ['POST', '/api/jobs', { body: { name: 'x', options: { prio: 1 } } }, 400, 'VALIDATION', [/unknown option "prio" \(did you mean "priority"\?\)/]],
        ['POST', '/api/jobs', { body: { name: 'x', options: { client: {} } } }, 400, 'VALIDATION', [/unknown option "client"/]],
        ['POST', '/api/jobs', { body: { name: 'x', options: { runAt: 'not a date' } } }, 400, 'VALIDATION', [/runAt must be a valid Date/]],
        ['POST', '/api/jobs', { body: { name: 'x', extra: 1 } }, 400, 'VALIDATION', [/unknown option "extra"/]],
        ['POST', '/api/jobs', { body: { name: 'x' }, headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE', [/Content-Type: application\/json/]],
        ['GET', '/api/jobs?cursor=abc', {}, 400, 'VALIDATION', [/cursor must be a job id/]],
        ['GET', '/api/jobs?limit=0', {}, 400, 'VALIDATION', [/limit must be at least 1/]],
        ['GET', '/api/jobs?limit=1001', {}, 400, 'VALIDATION', [/limit must be at most 1000/]],
        ['GET', '/api/jobs?limit=ten', {}, 400, 'VALIDATION', [/limit must be a whole number from 1 to 1000, got "ten"/]],
        ['GET', '/api/jobs?status=done', {}, 400, 'VALIDATION', [/status must be one of pending, running/]],
        ['GET', '/api/jobs?stauts=failed', {}, 400, 'VALIDATION', [/"stauts" \(did you mean "status"\?\)/]],
        ['GET', '/api/jobs?status=failed&status=pending', {}, 400, 'VALIDATION', [/"status" is given twice/]],
        ['GET', '/api/jobs?name=%20', {}, 400, 'VALIDATION', [/name may contain only/]],
        ['GET', `/api/jobs/${'9'.repeat(70)}`, {}, 400, 'VALIDATION', [/id must be at most 64 characters/]],
        ['GET', '/api/stats/throughput?minutes=0', {}, 400, 'VALIDATION', [/minutes must be at least 1/]],
        ['GET', '/api/stats/throughput?minutes=99999', {}, 400, 'VALIDATION', [/minutes must be at most 10080/]],
        ['POST', '/api/names/bad%20name/pause', {}, 400, 'VALIDATION', [/name may contain only/]],
      ];
      for (const [method, path, o, status, code, says] of cases) await refused(ctx, method, path, o, status, code, says);
    });

    it('unknown ids are 404, wrong states 409, unknown routes 404, all as JSON', async (ctx) => {
      const [pending] = await ctx.queue.addBulk([{ name: 'w' }]);
      await refused(ctx, 'GET', '/api/jobs/424242', {}, 404, 'JOB_NOT_FOUND', [/"424242" does not exist/]);
      await refused(ctx, 'GET', '/api/jobs/not-a-number', {}, 404, 'JOB_NOT_FOUND');
      await refused(ctx, 'POST', '/api/jobs/424242/retry', {}, 404, 'JOB_NOT_FOUND');
      await refused(ctx, 'DELETE', '/api/jobs/424242', {}, 404, 'JOB_NOT_FOUND');
      await refused(ctx, 'POST', `/api/jobs/${pending}/retry`, {}, 409, 'JOB_STATE', [/it is pending; only failed or cancelled jobs can be retried/]);
      await ctx.call('POST', `/api/jobs/${pending}/cancel`);
      await refused(ctx, 'POST', `/api/jobs/${pending}/cancel`, {}, 409, 'JOB_STATE', [/cancelled/]);
      await refused(ctx, 'GET', '/api/nothing', {}, 404, 'NOT_FOUND', [/GET \/api\/features lists/]);
      await refused(ctx, 'PATCH', '/api/jobs', {}, 404, 'NOT_FOUND');
    });

    it('a body over the limit is 413 and writes nothing', async (ctx) => {
      await refused(ctx, 'POST', '/api/jobs', { body: { name: 'big', data: 'x'.repeat(3000) } }, 413, 'PAYLOAD_TOO_LARGE', [/over 2048 bytes/]);
      const ok = await ctx.call('POST', '/api/jobs', { body: { name: 'small', data: 'x'.repeat(1000) } });
      assert.equal(ok.status, 201);
    }, { maxBodyBytes: 2048 });

    it('data over the queue payload limit (but within the body limit) is 400 and writes nothing', async (ctx) => {
      await refused(ctx, 'POST', '/api/jobs', { body: { name: 'big', data: 'x'.repeat(1_048_600) } }, 400, 'VALIDATION', [/over the limit of 1048576 \(maxPayloadBytes\)/]);
      await refused(ctx, 'POST', '/api/jobs', { body: { name: 'bigger', data: 'x'.repeat(1_300_000) } }, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a foreign Host or Origin is 403 (DNS rebinding, cross-site writes); allowed ones pass', async (ctx) => {
      await refused(ctx, 'GET', '/api/jobs', { headers: { host: 'evil.example' } }, 403, 'FORBIDDEN_HOST', [/allowedHosts/]);
      await refused(ctx, 'POST', '/api/jobs', { body: { name: 'x' }, headers: { origin: 'http://evil.example' } }, 403, 'FORBIDDEN_ORIGIN');
      await refused(ctx, 'POST', '/api/jobs', { body: { name: 'x' }, headers: { origin: 'null' } }, 403, 'FORBIDDEN_ORIGIN');
      await refused(ctx, 'POST', '/api/jobs', { body: { name: 'x' }, headers: { origin: 'http://localhost:9999' } }, 403, 'FORBIDDEN_ORIGIN');
      await refused(ctx, 'GET', '/', { headers: { host: 'evil.example' } }, 403, 'FORBIDDEN_HOST');
      assert.equal((await ctx.call('POST', '/api/jobs', { body: { name: 'x' }, headers: { origin: 'http://localhost:7700' } })).status, 201, 'same origin');
      assert.equal((await ctx.call('GET', '/api/jobs', { headers: { host: '127.0.0.1:1234' } })).status, 200, 'loopback, any port');
      assert.equal((await ctx.call('GET', '/api/jobs', { headers: { host: 'jobs.example.com' } })).status, 200, 'allowed host');
      assert.equal((await ctx.call('POST', '/api/jobs', { body: { name: 'y' }, headers: { origin: 'https://admin.example.com' } })).status, 201, 'allowed origin');
    }, { allowedHosts: ['jobs.example.com'], allowedOrigins: ['https://admin.example.com'] });

    it('with a token: /api and /metrics need it (401 without or wrong), /healthz and the page do not', async (ctx) => {
      await refused(ctx, 'GET', '/api/jobs', {}, 401, 'UNAUTHORIZED', [/Authorization: Bearer/]);
      const wrong = await refused(ctx, 'POST', '/api/jobs', { body: { name: 'x' }, token: 'wrong-token-0123456789' }, 401, 'UNAUTHORIZED', [/wrong/]);
      assert.match(wrong.headers.get('www-authenticate')!, /Bearer/);
      await refused(ctx, 'GET', '/metrics', {}, 401, 'UNAUTHORIZED');
      assert.equal((await ctx.call('GET', '/api/jobs', { token: TOKEN })).status, 200);
      assert.equal((await ctx.call('POST', '/api/jobs', { body: { name: 'x' }, token: TOKEN })).status, 201);
      assert.equal((await ctx.call('GET', '/metrics', { token: TOKEN })).status, 200);
      assert.equal((await ctx.call('GET', '/healthz')).status, 200);
      const page = await ctx.call('GET', '/');
      assert.match(page.text, /"auth":true/);
      assert.equal((await ctx.call('GET', '/api/features', { token: TOKEN })).json.auth, true);
    }, { token: TOKEN });

    it('read-only: every write is 403 and writes nothing; reads work', async (ctx) => {
      const [id] = await ctx.queue.addBulk([{ name: 'w' }]);
      for (const [method, path, body] of [
        ['POST', '/api/jobs', { name: 'x' }],
        ['POST', `/api/jobs/${id}/cancel`, undefined],
        ['POST', `/api/jobs/${id}/retry`, undefined],
        ['DELETE', `/api/jobs/${id}`, undefined],
        ['POST', '/api/names/w/pause', undefined],
        ['POST', '/api/jobs/bulk/delete', { filter: {} }],
        ['PUT', '/api/names/w/limits', { concurrency: 1 }],
        ['DELETE', '/api/schedules/k', undefined],
      ] as const) {
        await refused(ctx, method, path, body === undefined ? {} : { body }, 403, 'READ_ONLY', [/read-only/]);
      }
      assert.equal((await ctx.call('GET', `/api/jobs/${id}`)).status, 200);
      assert.equal((await ctx.call('GET', '/api/features')).json.readOnly, true);
    }, { readOnly: true });

    it('responses carry a Content-Security-Policy and nosniff; the page carries its config as non-executable JSON', async ({ call }) => {
      for (const path of ['/', '/api/jobs', '/api/nothing']) {
        const r = await call('GET', path);
        assert.match(r.headers.get('content-security-policy')!, /default-src 'self'; script-src 'self'/, path);
        assert.match(r.headers.get('content-security-policy')!, /frame-ancestors 'none'/, path);
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      }
      const page = await call('GET', '/');
      assert.match(page.text, /<script id="spool-config" type="application\/json">\{"basePath":"","auth":false,"readOnly":false/);
      assert.doesNotMatch(page.text, /<script>/, 'no inline executable script');
    });

    it('listen(): 127.0.0.1 by default; a non-loopback host without a token is refused at start', async ({ queue }) => {
      const open = createSpoolServer(queue, { dashboardDir: false });
      try {
        await assert.rejects(open.listen({ host: '0.0.0.0', port: 0 }), (e: unknown) => e instanceof ValidationError && /no token is set: set SPOOL_TOKEN/.test(e.message));
        const local = await open.listen({ port: 0 });
        assert.match(local.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const r = await fetch(`${local.url}/api/features`);
        assert.equal(r.status, 200);
      } finally {
        await open.close();
      }
      const withToken = createSpoolServer(queue, { dashboardDir: false, token: TOKEN });
      try {
        const wide = await withToken.listen({ host: '0.0.0.0', port: 0 });
        const r = await fetch(`http://127.0.0.1:${wide.port}/api/features`, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(r.status, 200);
      } finally {
        await withToken.close();
      }
      assert.throws(() => createSpoolServer(queue, { token: 'short' }), /token must be at least 16 characters/);
      assert.throws(() => createSpoolServer(queue, { basePath: '/a"b' }), /basePath must be a path/);
      assert.throws(() => createSpoolServer(queue, { readonly: true } as never), /unknown option "readonly" \(did you mean "readOnly"\?\)/);
    });

    it('a built dashboard is served: assets as files, any other path index.html with the config, nothing outside its folder', async ({ queue }) => {
      const { dir, cleanup } = tempDir();
      try {
        mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
        writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><html><head><title>D</title><script type="module" src="./assets/app-Ab12Cd34.js"></script></head><body></body></html>');
        writeFileSync(join(dir, 'dist', 'assets', 'app-Ab12Cd34.js'), 'console.log(1)');
        writeFileSync(join(dir, 'secret.txt'), 'secret');
        const server = createSpoolServer(queue, { dashboardDir: join(dir, 'dist'), basePath: '/jobs', readOnly: true });
        const call = caller(server);
        try {
          const index = await call('GET', '/jobs/');
          assert.match(index.text, /<base href="\/jobs\/"><script id="spool-config" type="application\/json">\{"basePath":"\/jobs","auth":false,"readOnly":true/);
          assert.match(index.text, /<title>D<\/title>/);
          // The <base> comes before the page's own asset links, so their relative URLs resolve under /jobs/ from any route.
          assert.ok(index.text.indexOf('<base href') < index.text.indexOf('./assets/app-'), 'base before assets');
          const asset = await call('GET', '/jobs/assets/app-Ab12Cd34.js');
          assert.equal(asset.text, 'console.log(1)');
          assert.match(asset.headers.get('content-type')!, /text\/javascript/);
          assert.match(asset.headers.get('cache-control')!, /immutable/);
          const deep = await call('GET', '/jobs/jobs/123');
          assert.match(deep.text, /spool-config/, 'SPA fallback');
          for (const path of ['/jobs/../secret.txt', '/jobs/%2e%2e/secret.txt', '/jobs/assets/..%2f..%2fsecret.txt', '/jobs/%00']) {
            const r = await call('GET', path);
            assert.doesNotMatch(r.text, /^secret$/, path);
          }
        } finally {
          await server.close();
        }
      } finally {
        cleanup();
      }
    });
  });
}
