/**
 * The dashboard in a real browser (Debian's chromium through playwright-core; no downloaded browser, no
 * network): one browser, one HTTP server (the dashboard at / and, from a second SpoolServer on the same queue,
 * under /ops/spool) and one worker in another process for the whole file. Every page also checks that the
 * Content-Security-Policy refused nothing (no inline script or style slipped into the build).
 *
 * The page speaks only the API, whose behaviour on both stores the server suites check; this file runs on
 * SQLite, and on PostgreSQL with SPOOL_DASHBOARD_TEST_STORE=postgres (screenshots are taken on SQLite only).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { addDemoScan } from '../src/cli/demo.ts';
import { defineJob, openQueue, type Queue } from '../src/index.ts';
import { z } from 'zod';
import { createSpoolServer, type SpoolServer } from '../src/server/index.ts';
import { type Fixture, spawnFixture } from './support/children.ts';
import { execOk } from './support/exec.ts';
import { dropSchema, freshSchemaName, PG_URL } from './support/postgres.ts';
import { tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
const ON_POSTGRES = process.env.SPOOL_DASHBOARD_TEST_STORE === 'postgres';
const schema = ON_POSTGRES ? freshSchemaName() : undefined;
const PREFIX = '/ops/spool';
/** A read-only server with a token, on the same HTTP server. */
const RO = '/ro';
const TOKEN = 'a-long-random-secret';

let dir: { dir: string; cleanup: () => void };
let built = '';
let queue: Queue;
let servers: SpoolServer[] = [];
let http: Server;
let origin = '';
let worker: Fixture;
let browser: Browser;
let context: BrowserContext;
const marker = () => join(dir.dir, 'fixed');
/** Messages of the browser's console that say the Content-Security-Policy refused something. */
const cspViolations: string[] = [];

before(async () => {
  dir = tempDir();
  const url = ON_POSTGRES ? PG_URL : `sqlite:${join(dir.dir, 'spool.db')}`;
  // Built into this test's own folder: a concurrent `npm pack` (test/package.test.ts) empties dist/.
  const out = (built = join(dir.dir, 'dashboard'));
  await execOk(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'dashboard/vite.config.ts', '--outDir', out, '--logLevel', 'warn'], { cwd: ROOT });
  queue = await openQueue({ url, ...(schema ? { schema } : {}) });
  const root = createSpoolServer(queue, { dashboardDir: out });
  const prefixed = createSpoolServer(queue, { dashboardDir: out, basePath: PREFIX });
  const readOnly = createSpoolServer(queue, { dashboardDir: out, basePath: RO, readOnly: true, token: TOKEN });
  servers = [root, prefixed, readOnly];
  const under = (url: string | undefined, base: string) => url === base || (url ?? '').startsWith(`${base}/`);
  http = createServer((req, res) => (under(req.url, PREFIX) ? prefixed : under(req.url, RO) ? readOnly : root).handle(req, res));
  for (const s of servers) s.attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  worker = spawnFixture('dashboard-worker.ts', { SPOOL_TEST_URL: url, ...(schema ? { SPOOL_TEST_SCHEMA: schema } : {}), FIXED_MARKER: marker() });
  await worker.waitForLine((l) => l === 'ready', 'the worker to start');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
  for (const s of servers) await s.close();
  http?.closeAllConnections();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  await queue?.close();
  if (schema) await dropSchema(schema);
  dir?.cleanup();
});

async function open(path: string, on: BrowserContext = context): Promise<Page> {
  const page = await on.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
  await page.goto(`${origin}${path}`);
  return page;
}

const live = (page: Page) => page.locator('.live-dot.on').waitFor({ timeout: 10_000 });
const valueOf = async (page: Page, selector: string) => Number(await page.locator(selector).getAttribute('aria-valuenow'));

test('the build is one script and one stylesheet, under 100 KB gzipped together, and the page has no inline script', () => {
  const assets = readdirSync(join(built, 'assets'));
  assert.deepEqual(assets.map((f) => f.replace(/-[\w-]+\./, '.')).sort(), ['index.css', 'index.js']);
  const gzipped = assets.reduce((sum, f) => sum + gzipSync(readFileSync(join(built, 'assets', f))).length, 0);
  assert.ok(gzipped < 100 * 1024, `${gzipped} bytes gzipped`);
  const html = readFileSync(join(built, 'index.html'), 'utf8');
  assert.deepEqual(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g) ?? [], [], 'no inline script');
  assert.doesNotMatch(html, /\sstyle=/, 'no inline style');
});

test('the overview shows counts by status and name, live', async () => {
  await queue.addBulk([
    { name: 'overview-a', data: { n: 1 } },
    { name: 'overview-a', data: { n: 2 } },
  ]);
  const page = await open('/');
  await live(page);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.locator('tr', { has: page.getByRole('link', { name: 'overview-a', exact: true }) }).waitFor();
  // Stalled: due for five minutes, never claimed (no worker runs this name); overview-a's jobs are just added.
  await queue.add('nobody-runs-this', { n: 1 }, { runAt: new Date(Date.now() - 5 * 60_000) });
  const warning = page.getByRole('alert');
  await warning.getByRole('link', { name: 'nobody-runs-this' }).waitFor({ timeout: 10_000 });
  assert.doesNotMatch((await warning.textContent())!, /overview-a/);
  const pendingBefore = Number((await page.locator('[data-count=pending]').textContent())!.replace(/\D/g, ''));
  await queue.add('overview-a', { n: 3 });
  // Pushed: the counts change with no reload and no polling (the hub sends counts at most once a second).
  await waitFor(async () => Number((await page.locator('[data-count=pending]').textContent())!.replace(/\D/g, '')) === pendingBefore + 1, 'the pushed count', 10_000);
  await page.close();
});

test('pause, resume and limits of a name from the overview: confirmed, written for every worker, shown live', async () => {
  await queue.add('pausable', { n: 1 }, { delay: 3_600_000 });
  const page = await open('/');
  await live(page);
  const row = page.locator('tr', { has: page.getByRole('link', { name: 'pausable', exact: true }) });
  await row.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Pause' }).click();
  const control = async () => (await queue.names()).find((n) => n.name === 'pausable');
  await waitFor(async () => (await control())?.paused === true, 'the name to be paused', 10_000);
  await row.getByText('paused').waitFor();
  await row.getByRole('button', { name: 'Resume' }).click();
  await waitFor(async () => (await control())?.paused === false, 'the name to be resumed', 10_000);
  await row.getByRole('button', { name: /Limits/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox').fill('{"concurrency": 0}');
  await dialog.getByRole('button', { name: 'Save limits' }).click();
  await dialog.locator('.error').waitFor(); // the server says what to fix; nothing is written
  assert.equal((await control())?.limits?.concurrency, undefined);
  await dialog.getByRole('textbox').fill('{"concurrency": 2}');
  await dialog.getByRole('button', { name: 'Save limits' }).click();
  await waitFor(async () => (await control())?.limits?.concurrency === 2, 'the limit to be saved', 10_000);
  await page.close();
});

test('schedules: listed with their rule and next run; run now, pause, resume and remove from the page', async () => {
  await queue.schedule('nightly-probe', { cron: '0 3 * * *', tz: 'Europe/Berlin' }, 'schedule-probe', { kind: 'daily' });
  const page = await open('/');
  await page.getByRole('link', { name: 'Schedules' }).click();
  const row = page.locator('tr', { hasText: 'nightly-probe' });
  await row.waitFor();
  assert.match((await row.textContent())!, /0 3 \* \* \* \(Europe\/Berlin\)/);
  const schedule = async () => (await queue.listSchedules()).find((s) => s.key === 'nightly-probe');
  await row.getByRole('button', { name: 'Run now' }).click();
  await waitFor(async () => (await queue.listJobs({ name: 'schedule-probe' })).length === 1, 'the triggered job', 10_000);
  await row.getByRole('button', { name: 'Pause' }).click();
  await waitFor(async () => (await schedule())?.paused === true, 'the schedule to be paused', 10_000);
  await row.getByText('paused').waitFor();
  await row.getByRole('button', { name: 'Resume' }).click();
  await waitFor(async () => (await schedule())?.paused === false, 'the schedule to be resumed', 10_000);
  await row.getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await waitFor(async () => (await schedule()) === undefined, 'the schedule to be removed', 10_000);
  await page.close();
});

test("a running job's progress bar advances, driven by a worker in another process, without polling", async () => {
  const id = await queue.add('slow-scan', { repo: 'live/one' });
  const page = await open('/jobs?name=slow-scan');
  await live(page);
  const apiRequests: string[] = [];
  page.on('request', (r) => r.url().includes('/api/') && apiRequests.push(r.url()));
  const bar = `tr[data-job="${id}"] [role=progressbar]`;
  await page.locator(bar).waitFor({ timeout: 15_000 });
  let first = 0;
  await waitFor(async () => (first = await valueOf(page, bar)) >= 10 && first < 100, 'the first progress', 15_000);
  await waitFor(async () => (await valueOf(page, bar)) > first, 'the bar to advance', 15_000);
  await waitFor(async () => (await page.locator(`tr[data-job="${id}"] .badge`).textContent()) === 'completed', 'the row to complete', 15_000);
  // Re-reads follow pushed events, throttled to one per 2 s: a handful of requests over the job's 4 s, not a poll.
  assert.ok(apiRequests.length <= 8, `${apiRequests.length} API requests while watching: ${apiRequests.join(', ')}`);
  await page.close();
});

test('the job table filters by name and by data, kept in the URL; bad JSON is refused before sending', async () => {
  await queue.addBulk([
    ...Array.from({ length: 5 }, (_, i) => ({ name: 'filter-a', data: { repo: 'acme/api', i } })),
    ...Array.from({ length: 3 }, (_, i) => ({ name: 'filter-a', data: { repo: 'acme/web', i } })),
    ...Array.from({ length: 4 }, (_, i) => ({ name: 'filter-b', data: { repo: 'acme/web', i } })),
  ]);
  const page = await open('/jobs');
  await page.locator('tr[data-job]').first().waitFor();
  await page.getByLabel('Name').fill('filter-a');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/name=filter-a/);
  await waitFor(async () => (await page.locator('tr[data-job]').count()) === 8, '8 filter-a rows');
  assert.deepEqual([...new Set(await page.locator('tr[data-job] td:nth-child(2)').allTextContents())], ['filter-a']);

  await page.getByLabel('Data contains (JSON)').fill('{"repo": acme');
  assert.equal(await page.getByRole('button', { name: 'Filter' }).isDisabled(), true);
  await page.getByText('the data filter is not valid JSON').waitFor();
  await page.getByLabel('Data contains (JSON)').fill('{"repo": "acme/web"}');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/data=/);
  await waitFor(async () => (await page.locator('tr[data-job]').count()) === 3, '3 filter-a rows of acme/web');
  // The URL is the state: opened fresh, it shows the same rows.
  const shared = await open(new URL(page.url()).pathname + new URL(page.url()).search);
  await waitFor(async () => (await shared.locator('tr[data-job]').count()) === 3, 'the shared link to show 3 rows');
  assert.equal(await shared.getByLabel('Name').inputValue(), 'filter-a');
  await shared.close();
  await page.close();
});

test('a table filtered by name does not re-read when only other names change', async () => {
  // Another tab on the overview watches every job, so the hub pushes counts for filter-b's changes too.
  const overview = await open('/');
  await live(overview);
  const page = await context.newPage();
  let countsPushed = 0;
  page.on('websocket', (ws) => ws.on('framereceived', (f) => void (String(f.payload).includes('"type":"counts"') && countsPushed++)));
  await page.goto(`${origin}/jobs?name=filter-a`);
  await waitFor(async () => (await page.locator('tr[data-job]').count()) === 8, '8 filter-a rows');
  await waitFor(() => countsPushed >= 1, 'the counts that answer the subscription');
  await page.waitForTimeout(300); // the one re-read that push asks for
  const reads: string[] = [];
  page.on('request', (r) => void (r.url().includes('/api/') && reads.push(r.url())));
  const pushed = countsPushed;
  await queue.addBulk(Array.from({ length: 4 }, (_, i) => ({ name: 'filter-b', data: { repo: 'acme/other', i } })));
  await waitFor(() => countsPushed > pushed, 'the counts of the change');
  await page.waitForTimeout(2_500); // past the table's 2 s re-read throttle, so a re-read it asked for would show
  assert.deepEqual(reads, []);
  await page.close();
  await overview.close();
});

test('a failed job shows its attempt history with stacks; Retry runs it again to completion', async () => {
  const id = await queue.add('flaky', { group: 'single' }, { maxAttempts: 2, backoff: { type: 'fixed', delay: 50 } });
  await waitFor(async () => (await queue.getJob(id))?.status === 'failed', 'the flaky job to fail twice', 15_000);
  const page = await open(`/jobs/${id}`);
  await live(page);
  await page.locator('h1 .badge', { hasText: 'failed' }).waitFor();
  assert.equal(await page.locator('.attempts li').count(), 2);
  assert.match((await page.locator('.attempts li[data-attempt="2"] .error-message').textContent())!, /upstream answered 503 on attempt 2/);
  await page.locator('.attempts li[data-attempt="2"] summary').click();
  assert.match((await page.locator('.attempts li[data-attempt="2"] .stack').textContent())!, /at .*dashboard-worker\.ts/);

  writeFileSync(`${marker()}-single`, '');
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.locator('h1 .badge', { hasText: 'completed' }).waitFor({ timeout: 15_000 });
  assert.match((await page.locator('pre[data-field=result]').textContent())!, /"ok": true/);
  await page.close();
});

test('bulk retry of a filter (the dead-letter view): the count first, a confirmation, then every job runs again', async () => {
  const ids = await queue.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: 'flaky', data: { group: 'bulk', i }, options: { maxAttempts: 1 } })));
  await waitFor(async () => (await queue.countJobs({ name: 'flaky', status: 'failed', data: { group: 'bulk' } })) === 3, 'three failed jobs', 15_000);
  writeFileSync(`${marker()}-bulk`, '');
  const page = await open(`/failed?data=${encodeURIComponent('{"group":"bulk"}')}`);
  await waitFor(async () => (await page.locator('tr[data-job]').count()) === 3, 'three dead letters');
  // By keyboard: Enter opens the confirmation with focus on Cancel; Escape closes it and nothing happens.
  await page.getByRole('button', { name: 'Retry all' }).focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Cancel');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await queue.countJobs({ name: 'flaky', status: 'failed', data: { group: 'bulk' } }), 3, 'nothing retried on Escape');
  await page.getByRole('button', { name: 'Retry all' }).click();
  await dialog.waitFor();
  assert.equal(await dialog.locator('[data-bulk-count]').textContent(), '3');
  await dialog.getByRole('button', { name: 'Retry 3' }).click();
  await page.getByText('Retry: 3 jobs.').waitFor();
  await waitFor(async () => (await Promise.all(ids.map((id) => queue.getJob(id)))).every((j) => j?.status === 'completed'), 'the three to complete', 15_000);
  await waitFor(async () => (await page.locator('tr[data-job]').count()) === 0, 'the dead letters to empty, live', 15_000);
  await page.close();
});

test('the enqueue form refuses bad JSON before sending, then adds the job and opens its page', async () => {
  const page = await open('/enqueue');
  await page.getByLabel('Name').fill('enqueued-probe');
  await page.getByLabel('Data (JSON)').fill('{"repo": "acme/api",}');
  await page.getByText('Data is not valid JSON').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Add job' }).isDisabled(), true);
  await page.getByLabel('Data (JSON)').fill('{"repo": "acme/api"}');
  await page.getByLabel('Priority').fill('5');
  await page.getByRole('button', { name: 'Add job' }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  await page.locator('h1', { hasText: 'enqueued-probe' }).waitFor();
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  const job = await queue.getJob(id);
  assert.deepEqual([job?.name, job?.data, job?.priority], ['enqueued-probe', { repo: 'acme/api' }, 5]);
  await page.close();
});

test("the enqueue form follows a typed job's schema: it fills a skeleton, names what is missing or mistyped, then adds", async () => {
  const typed = defineJob('typed-probe', z.object({ repo: z.string(), depth: z.number().int().default(1) }), async () => null);
  await queue.add(typed, { repo: 'seen/by-the-queue' }); // the queue learns of a typed job when it adds or runs one
  const page = await open('/enqueue');
  await page.getByLabel('Name').fill('typed-probe');
  await page.getByText("Typed job: its data follows this schema").waitFor();
  await page.getByRole('button', { name: 'Fill from schema' }).click();
  assert.deepEqual(JSON.parse(await page.getByLabel('Data (JSON)').inputValue()), { repo: '', depth: 1 });
  await page.getByLabel('Data (JSON)').fill('{"depth": 2}');
  await page.getByText('needs "repo"').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Add job' }).isDisabled(), true);
  await page.getByLabel('Data (JSON)').fill('{"repo": "a/b", "depth": "deep"}');
  await page.getByText('"depth" must be integer, got string').waitFor();
  await page.getByLabel('Data (JSON)').fill('{"repo": "a/b", "depth": 3}');
  await page.getByRole('button', { name: 'Add job' }).click();
  await page.waitForURL(/\/jobs\/\d+$/);
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  assert.deepEqual((await queue.getJob(id))?.data, { repo: 'a/b', depth: 3 });
  await page.close();
});

test('job data holding <img src=x onerror=alert(1)> is shown as text and runs nothing', async () => {
  const payload = '<img src=x onerror=alert(1)>';
  const id = await queue.add('xss-probe', { html: payload, [payload]: payload });
  const page = await context.newPage();
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await page.goto(`${origin}/jobs/${id}`);
  await page.locator('pre[data-field=data]').waitFor();
  assert.ok((await page.locator('pre[data-field=data]').textContent())!.includes(payload));
  await page.goto(`${origin}/jobs?name=xss-probe`);
  await page.locator(`tr[data-job="${id}"]`).waitFor();
  assert.ok((await page.locator(`tr[data-job="${id}"] .data-cell`).textContent())!.includes('<img'));
  assert.equal(await page.locator('img').count(), 0);
  await page.waitForTimeout(300);
  assert.equal(dialogs, 0);
  await page.close();
});

test('under a mount prefix: deep links, assets, API calls and the WebSocket all stay under it', async () => {
  const id = await queue.add('slow-scan', { repo: 'prefix/one' });
  const requests: string[] = [];
  const page = await context.newPage();
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  page.on('websocket', (ws) => requests.push(new URL(ws.url()).pathname));
  await page.goto(`${origin}${PREFIX}/jobs/${id}`);
  await page.locator('h1', { hasText: 'slow-scan' }).waitFor();
  await live(page);
  // The job page's bar moves too (its own subscription, by id, through the prefixed WebSocket).
  await waitFor(async () => (await page.locator('.facts [role=progressbar]').count()) > 0 && (await valueOf(page, '.facts [role=progressbar]')) >= 10, 'the job page bar to move', 15_000);
  await page.getByRole('link', { name: 'Jobs', exact: true }).click();
  await page.waitForURL(`${origin}${PREFIX}/jobs`);
  await page.locator(`tr[data-job="${id}"]`).waitFor();
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.waitForURL(`${origin}${PREFIX}/`);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const outside = requests.filter((p) => !p.startsWith(`${PREFIX}/`));
  assert.deepEqual(outside, []);
  assert.ok(requests.some((p) => p === `${PREFIX}/api/events`), 'the WebSocket under the prefix');
  await page.close();
});

test('with a token the page asks for it once; a read-only server shows no write buttons; a hidden tab closes its socket', async () => {
  const id = await queue.add('read-only-probe', { n: 1 });
  const page = await open(`${RO}/`);
  await page.getByRole('heading', { name: 'This server needs a token' }).waitFor();
  await page.getByLabel('Token').fill(TOKEN);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await live(page);
  await page.locator('text=read-only').first().waitFor();
  assert.equal(await page.getByRole('link', { name: 'Add job' }).count(), 0);
  await page.goto(`${origin}${RO}/jobs/${id}`);
  await page.locator('h1', { hasText: 'read-only-probe' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'This server needs a token' }).count(), 0, 'asked once per tab');
  assert.equal(await page.getByRole('button', { name: /Retry|Cancel|Delete/ }).count(), 0);
  await page.goto(`${origin}${RO}/jobs`);
  await page.locator(`tr[data-job="${id}"]`).waitFor();
  assert.equal(await page.getByRole('button', { name: /Retry|Cancel|Delete/ }).count(), 0);

  // Hidden: the WebSocket closes (updates pause, the server holds nothing for this tab); visible: it reconnects.
  await live(page);
  // A string, not a function: tsx's transform would add a helper the page does not have.
  const setHidden = (hidden: boolean) =>
    page.evaluate(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event('visibilitychange'));`);
  await setHidden(true);
  await page.locator('.live-dot.off').waitFor();
  await setHidden(false);
  await live(page);
  await page.close();
});

test('screenshots of the overview, job table and a job page, light and dark (docs/screenshots)', { skip: ON_POSTGRES && 'taken on SQLite' }, async () => {
  await Promise.all(Array.from({ length: 14 }, () => addDemoScan(queue)));
  await waitFor(async () => (await queue.countJobs({ name: 'send-report', status: 'completed' })) >= 4, 'some demo scans to finish', 30_000);
  await Promise.all(Array.from({ length: 6 }, () => addDemoScan(queue)));
  const [flaky] = (await queue.listPage({ name: 'flaky', data: { group: 'single' } })).jobs;
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    const themed = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: scheme });
    const page = await open('/', themed);
    await live(page);
    await page.locator('svg .bar-completed').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, `overview-${scheme}.png`) });
    await page.goto(`${origin}/jobs`);
    await page.locator('tr[data-job]').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, `jobs-${scheme}.png`) });
    await page.goto(`${origin}/jobs/${flaky!.id}`);
    await page.locator('.attempts li').first().waitFor();
    await page.locator('.attempts li summary').first().click();
    await page.screenshot({ path: join(SCREENSHOTS, `job-${scheme}.png`), fullPage: true });
    await themed.close();
  }
});

test('no page had anything refused by the Content-Security-Policy, and no script error', () => {
  assert.deepEqual(cspViolations, []);
});
