import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Queue } from '../../src/index.ts';
import { createSpoolServer, type SpoolServerOptions } from '../../src/server/index.ts';
import { writesSent } from '../support/server.ts';
import type { ServerQueueFactory } from './server-api.ts';

const TOKEN = 'fuzz-token-0123456789abcdef';

/** Route templates of API.md; `{id}`, `{name}`, `{key}`, `{action}` are filled with odd and ordinary values. */
const ROUTES = [
  '/', '/healthz', '/metrics', '/api/features', '/api/jobs', '/api/jobs/count', '/api/jobs/{id}', '/api/jobs/{id}/retry',
  '/api/jobs/{id}/cancel', '/api/jobs/bulk/{action}', '/api/stats', '/api/stats/throughput', '/api/names',
  '/api/names/{name}/pause', '/api/names/{name}/resume', '/api/names/{name}/limits', '/api/schedules',
  '/api/schedules/{key}/trigger', '/api/schedules/{key}/pause', '/api/schedules/{key}/resume', '/api/schedules/{key}',
  '/api/events', '/api/nothing', '/assets/x.js', '/deep/spa/route',
];
/** The method each route answers (most requests use these, so they get past routing to the handlers). */
const ENDPOINTS: [string, string][] = [
  ['GET', '/'], ['GET', '/healthz'], ['GET', '/metrics'], ['GET', '/api/features'], ['GET', '/api/jobs'], ['POST', '/api/jobs'],
  ['GET', '/api/jobs/count'], ['GET', '/api/jobs/{id}'], ['DELETE', '/api/jobs/{id}'], ['POST', '/api/jobs/{id}/retry'],
  ['POST', '/api/jobs/{id}/cancel'], ['POST', '/api/jobs/bulk/{action}'], ['GET', '/api/stats'], ['GET', '/api/stats/throughput'],
  ['GET', '/api/names'], ['POST', '/api/names/{name}/pause'], ['POST', '/api/names/{name}/resume'], ['PUT', '/api/names/{name}/limits'],
  ['GET', '/api/schedules'], ['POST', '/api/schedules/{key}/trigger'], ['DELETE', '/api/schedules/{key}'], ['GET', '/api/events'],
];

/** Routes that answer 501 while the queue lacks flow control or schedules (the only 5xx allowed). */
const MAYBE_501 = /^\/api\/(names\/[^/]*\/(pause|resume|limits)|schedules)/;

const odd = fc.oneof(
  fc.constantFrom('1', '2', '3', '4', '5'),
  fc.string({ minLength: 10, maxLength: 80 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('1', '2', '3', '0', '-1', '01', '9'.repeat(20), 'abc', '..', '%2e%2e', '%00', '%F0%9F%98%80', 'retry', 'bulk', '%20', 'a%2Fb', 'null'),
  fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,12}$/),
  fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s) || 'x'),
  fc.nat({ max: 60 }).map(String),
);
const queryValue = fc.oneof(
  fc.constantFrom('pending', 'failed', 'completed', '10', '0', '1001', '-5', 'x', '', '{"repo":"a/b"}', '[1]', '{', '{"a\\"b":1}', 'null', '1e9'),
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 12 }),
);
const query = fc
  .array(fc.tuple(fc.constantFrom('status', 'name', 'limit', 'cursor', 'data', 'minutes', 'stauts', 'x'), queryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`));
const jobOptions = fc.dictionary(
  fc.constantFrom('priority', 'delay', 'runAt', 'maxAttempts', 'backoff', 'timeout', 'uniqueKey', 'client', 'prio'),
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1, 2 ** 31, 1.5, '2030-01-01T00:00:00Z', { type: 'fixed', delay: 10 }, { type: 'nope' })),
  { maxKeys: 3 },
);
const body = fc.oneof(
  fc.record({ name: fc.oneof(fc.constantFrom('mail', 'scan', 'bad name!', '', 'x'.repeat(300)), fc.string({ maxLength: 10 })), data: fc.jsonValue({ maxDepth: 3 }), options: jobOptions }, { requiredKeys: ['name'] }),
  fc.record({ filter: fc.record({ status: fc.constantFrom('pending', 'failed', 'cancelled', 'running', 'nope'), name: fc.constantFrom('mail', 'scan', 'x!'), data: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ repo: 'a/b' })) }, { requiredKeys: [] }) }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ concurrency: fc.jsonValue({ maxDepth: 1 }) }),
);
const endpoint = fc.oneof(
  { arbitrary: fc.constantFrom(...ENDPOINTS), weight: 4 },
  { arbitrary: fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), fc.constantFrom(...ROUTES)), weight: 1 },
);
const request = fc.record({
  endpoint,
  fill: fc.record({ id: odd, name: odd, key: odd, action: fc.oneof(fc.constantFrom('retry', 'cancel', 'delete'), odd) }),
  query,
  body: fc.option(fc.oneof(body.map((b) => JSON.stringify(b)), fc.string({ maxLength: 40 }), fc.constantFrom('{', '', 'null', '[]', '{"name":"mail"')), { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined, 'application/x-www-form-urlencoded'),
  host: fc.oneof({ arbitrary: fc.constant('localhost:7700'), weight: 6 }, { arbitrary: fc.constantFrom('127.0.0.1', 'evil.example', '[::1]:1'), weight: 1 }),
  origin: fc.option(fc.constantFrom('http://localhost:7700', 'http://evil.example', 'null', 'not a url'), { nil: undefined, freq: 4 }),
  token: fc.oneof({ arbitrary: fc.constant(TOKEN), weight: 3 }, { arbitrary: fc.constantFrom(undefined, 'wrong-token-0123456789', ''), weight: 1 }),
  prefixed: fc.boolean(),
});

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** What a rejected request must leave as it was: every job and every count. */
async function snapshot(queue: Queue): Promise<string> {
  return JSON.stringify([await queue.listJobs({ limit: 1000 }), await queue.countsByName()]);
}

/**
 * HTTP fuzzing (issue 12): random requests over every route — odd ids, names and keys, random query strings
 * and JSON bodies, wrong content types, foreign hosts and origins, tokens right and wrong. Whatever comes in:
 * never a 500 (501 only on the routes of features this build lacks), never an unhandled crash, JSON errors on
 * /api, and a refused request (4xx) changes no job and no count. fast-check prints the seed and the shrunk
 * request on failure; FUZZ_RUNS raises the number of runs.
 */
export function serverFuzz(kind: string, factory: ServerQueueFactory, runs: number): void {
  const variants: [string, SpoolServerOptions][] = [
    ['defaults', {}],
    ['token and read-only', { token: TOKEN, readOnly: true, basePath: '/jobs' }],
  ];
  describe(`HTTP fuzzing: ${kind}`, () => {
    for (const [label, options] of variants) {
      test(`${label}: random requests over every route never get a 500, and a refused one writes nothing`, async () => {
        const { queue, cleanup } = await factory();
        const server = createSpoolServer(queue, { dashboardDir: false, maxBodyBytes: 4096, ...options });
        try {
          // Jobs in every state, so retries, cancels and deletes have something to act on.
          const ids = await queue.addBulk(Array.from({ length: 12 }, (_, i) => ({ name: i % 2 ? 'mail' : 'scan', data: { repo: i % 3 ? 'a/b' : 'c/d', i } })));
          const { jobs } = await queue.store.claim({ names: ['mail', 'scan'], limit: 6, workerId: 'fuzz', leaseMs: 60_000, now: Date.now() });
          await queue.store.finish({ workerId: 'fuzz', now: Date.now(), outcomes: jobs.slice(0, 4).map((j, k) => (k % 2 ? { id: j.id, status: 'failed' as const, error: 'x', errorStack: null } : { id: j.id, status: 'completed' as const, resultJson: '1' })) });
          const base = options.basePath ?? '';
          await fc.assert(
            fc.asyncProperty(request, async (r: Req) => {
              const [method, route] = r.endpoint;
              const path = route.replace(/\{(id|name|key|action)\}/g, (_, k: keyof Req['fill']) => (k === 'id' && r.fill.id === '1' ? ids[0]! : r.fill[k]));
              const url = `http://${r.host}${r.prefixed ? base : ''}${path}${r.query}`;
              const headers: Record<string, string> = { host: r.host };
              if (r.contentType) headers['content-type'] = r.contentType;
              if (r.origin !== undefined) headers.origin = r.origin;
              if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
              const hasBody = r.body !== undefined && method !== 'GET' && method !== 'HEAD';
              const before = await snapshot(queue);
              const writes = writesSent(queue);
              let response: Response;
              try {
                response = await server.fetch(new Request(url, { method: method, headers, ...(hasBody ? { body: r.body } : {}) }));
              } catch (error) {
                assert.fail(`${method} ${url} threw instead of answering: ${(error as Error).stack}`);
              }
              const text = await response.text();
              const status = response.status;
              assert.ok(status < 500 || (status === 501 && MAYBE_501.test(path)), `${method} ${url} → ${status} ${text.slice(0, 300)}`);
              if (status >= 400 && method !== 'HEAD' && (path.startsWith('/api') || path === '/metrics' || status === 403)) {
                const json = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
                assert.equal(typeof json.error?.code, 'string', `${method} ${url} → ${status}: ${text.slice(0, 200)}`);
                assert.equal(typeof json.error?.message, 'string');
              }
              if (status >= 400) {
                if (status !== 404 && status !== 409) assert.equal(writesSent(queue), writes, `${method} ${url} → ${status} sent a write statement`);
                assert.equal(await snapshot(queue), before, `${method} ${url} → ${status} changed jobs`);
              }
              if (options.readOnly || options.token) {
                const isWrite = !['GET', 'HEAD', 'OPTIONS'].includes(method);
                if (isWrite) assert.ok(status >= 400, `${method} ${url} → ${status} on a read-only server with a token`);
              }
            }),
            { numRuns: runs, verbose: 1 },
          );
        } finally {
          await server.close();
          await queue.close();
          await cleanup();
        }
      });
    }
  });
}
