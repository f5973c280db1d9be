/**
 * Every `spool` command through the real binary against a real database: --json parsed, exit codes for
 * success (0), a failed operation (1) and bad usage (2). test/cli.sqlite.test.ts and test/cli.postgres.test.ts
 * each run it with their own target factory.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { Job, JobCounts } from '../../src/index.ts';
import { type CliTarget, killStragglers, type RunningSpool, spool, spoolJson, startSpool } from '../support/cli.ts';

/** A fresh database for one test, with direct SQL for what the CLI cannot do (break an index). */
export interface CliTestTarget {
  target: CliTarget;
  /** Runs one statement against the target's database (SQLite file or PostgreSQL schema). */
  sql(statement: string): Promise<void>;
  /** The name of an index the migrations create, to drop. */
  anIndex: string;
  cleanup(): Promise<void>;
}

/** ANSI escapes: any, and bold (the table heading). */
const ESCAPE = new RegExp(String.fromCharCode(27) + '\\[');
const BOLD = new RegExp(String.fromCharCode(27) + '\\[1m');

const HANDLERS = fileURLToPath(new URL('../fixtures/cli-handlers.js', import.meta.url));
const TS_HANDLERS = fileURLToPath(new URL('../fixtures/cli-typed-handlers.ts', import.meta.url));
const NO_DEFAULT = fileURLToPath(new URL('../fixtures/cli-no-default.js', import.meta.url));

interface Listing {
  jobs: Job[];
  nextCursor: string | null;
}

/**
 * `storeIndependent`: also run the tests whose outcome does not depend on the store (argument parsing, help,
 * colour); one of the two test files does, so they run once.
 */
export function cliSuite(label: string, open: () => Promise<CliTestTarget>, { storeIndependent = false } = {}): void {
  // Registered once (not skipped elsewhere): a skip in the summary would read as a missing service.
  const independent: typeof test = storeIndependent ? test : ((() => {}) as unknown as typeof test);
  /** Runs `fn` on a fresh database and cleans up after, whatever happens. */
  const withTarget = async (fn: (t: CliTestTarget & { start: (args: string[]) => RunningSpool }) => Promise<void>) => {
    const t = await open();
    const started: RunningSpool[] = [];
    const start = (args: string[]) => {
      const running = startSpool(t.target, args);
      started.push(running);
      return running;
    };
    try {
      await fn({ ...t, start });
    } finally {
      await killStragglers(started);
      await t.cleanup();
    }
  };

  describe(`spool CLI on ${label}`, { concurrency: 2 }, () => {
    test('add stores name, data and options; show --json returns them; add --json gives the id', () =>
      withTarget(async ({ target }) => {
        const added = await spool(target, ['add', 'deep-scan', '{"repo":"a/b"}', '--priority', '7', '--attempts', '5', '--delay', '1h', '--unique', 'scan:a/b', '--timeout', '30s']);
        assert.equal(added.code, 0, added.stderr);
        assert.match(added.stdout, /^added job 1 \(deep-scan\)$/m);
        const { id } = await spoolJson<{ id: string }>(target, ['add', 'other', '-'], { input: '{"from":"stdin"}' });
        assert.equal(id, '2');
        const job = await spoolJson<Job>(target, ['show', '1']);
        assert.deepEqual(
          { name: job.name, data: job.data, priority: job.priority, maxAttempts: job.maxAttempts, uniqueKey: job.uniqueKey, timeout: job.timeout, status: job.status },
          { name: 'deep-scan', data: { repo: 'a/b' }, priority: 7, maxAttempts: 5, uniqueKey: 'scan:a/b', timeout: 30_000, status: 'pending' },
        );
        assert.ok(new Date(job.runAt).getTime() - new Date(job.createdAt).getTime() >= 3_600_000 - 1_000, 'the delay of 1h is applied');
        assert.deepEqual((await spoolJson<Job>(target, ['show', '2'])).data, { from: 'stdin' });
        // The same unique key while the first is pending: the existing id comes back, nothing new is added.
        assert.equal((await spoolJson<{ id: string }>(target, ['add', 'deep-scan', '{}', '--unique', 'scan:a/b'])).id, '1');
      }));

    test('ls --data lists the jobs whose data contains the object, with the others filters; a bad --data exits 2', () =>
      withTarget(async ({ target }) => {
        for (const repo of ['a/b', 'c/d', 'a/b']) await spool(target, ['add', 'scan', JSON.stringify({ repo, depth: 1 })]);
        await spool(target, ['add', 'other', '{"repo":"a/b"}']);
        const found = await spoolJson<Listing>(target, ['ls', '--data', '{"repo":"a/b"}', '--name', 'scan']);
        assert.deepEqual(found.jobs.map((j) => j.id), ['3', '1']);
        const table = await spool(target, ['ls', '--data', '{"repo":"a/b"}']);
        assert.match(table.stdout, /3 of 3 jobs with data \{"repo":"a\/b"\}/);
        const bad = await spool(target, ['ls', '--data', '[1]']);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--data must be a JSON object/);
      }));

    independent('bad usage exits 2 with a message that says what to fix, and writes nothing', () =>
      withTarget(async ({ target }) => {
        const cases: [string[], RegExp][] = [
          [['add'], /give the job a name/],
          [['add', 'x', '{bad'], /not valid JSON.*Quote it/],
          [['add', 'x', '--priority', 'high'], /--priority.*whole number/],
          [['add', 'x', '--delay', '-5'], /--delay.*milliseconds/],
          [['add', 'x', '--attempts', '0'], /--attempts.*≥ 1/],
          [['add', '', '{}'], /name/],
          [['add', 'x', '--bogus'], /unknown option '--bogus'/],
          [['ls', '--status', 'done'], /--status.*pending, running, completed, failed, cancelled/],
          [['ls', '--limit', '0'], /--limit/],
          [['prune', '--older-than', '7'], /with a unit/],
          [['prune', '--status', 'running'], /finished statuses/],
          [['show'], /missing required argument 'id'/],
          [['nope'], /unknown command 'nope'/],
          [['worker'], /--handlers <file>' not specified/],
          [['worker', '--handlers', 'missing.js'], /no such file/],
          [['worker', '--handlers', NO_DEFAULT], /no default export; end it with export default/],
        ];
        const results = await inParallel(cases, ([args]) => spool(target, args));
        cases.forEach(([args, message], i) => {
          assert.equal(results[i]!.code, 2, `spool ${args.join(' ')} exits 2; stderr: ${results[i]!.stderr}`);
          assert.match(results[i]!.stderr, message, `spool ${args.join(' ')}`);
        });
        assert.deepEqual((await spoolJson<{ counts: JobCounts }>(target, ['stats'])).counts, { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
      }));

    test('pause, resume and limits per name: set, shown, cleared; a bad rate exits 2 saying what to fix', () =>
      withTarget(async ({ target }) => {
        type Flow = { name: string; paused: boolean; limits: unknown };
        assert.deepEqual(await spoolJson<Flow>(target, ['pause', 'scan', '--json']), { name: 'scan', paused: true, limits: null });
        const set = await spoolJson<Flow>(target, ['limits', 'scan', '--concurrency', '2', '--per-key-rate', '1/5s', '--json']);
        assert.deepEqual(set.limits, { concurrency: 2, perKeyRate: { max: 1, intervalMs: 5_000 } });
        assert.equal(set.paused, true);
        assert.deepEqual(await spoolJson<Flow>(target, ['resume', 'scan', '--json']), { name: 'scan', paused: false, limits: set.limits });
        const shown = await spool(target, ['limits', 'scan']);
        assert.equal(shown.stdout, 'scan: concurrency 2, per-key rate 1/5000ms\n');
        assert.equal((await spoolJson<Flow>(target, ['limits', 'scan', '--clear', '--json'])).limits, null);
        const bad = await spool(target, ['limits', 'scan', '--rate', '10']);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /must be max\/interval, e\.g\. 10\/1s/);
      }));

    test('ls pages newest first with a cursor, filters by status and name, and prints an aligned table', () =>
      withTarget(async ({ target }) => {
        for (const name of ['a', 'b', 'a', 'b', 'a']) assert.equal((await spool(target, ['add', name])).code, 0);
        const first = await spoolJson<Listing>(target, ['ls', '--limit', '2']);
        assert.deepEqual(first.jobs.map((j) => j.id), ['5', '4']);
        assert.equal(first.nextCursor, '4');
        const second = await spoolJson<Listing>(target, ['ls', '--limit', '2', '--cursor', '4']);
        assert.deepEqual(second.jobs.map((j) => j.id), ['3', '2']);
        const named = await spoolJson<Listing>(target, ['ls', '--name', 'a']);
        assert.deepEqual(named.jobs.map((j) => j.id), ['5', '3', '1']);
        assert.equal(named.nextCursor, null);
        assert.equal((await spool(target, ['cancel', '2'])).code, 0);
        assert.deepEqual((await spoolJson<Listing>(target, ['ls', '--status', 'cancelled'])).jobs.map((j) => j.id), ['2']);

        const table = await spool(target, ['ls', '--limit', '3']);
        assert.equal(table.code, 0);
        const lines = table.stdout.trimEnd().split('\n');
        assert.match(lines[0]!, /^ID\s+NAME\s+STATUS\s+ATTEMPTS\s+CREATED\s+INFO$/);
        const statusColumn = lines[0]!.indexOf('STATUS');
        for (const line of lines.slice(1, 4)) assert.match(line.slice(statusColumn), /^(pending|cancelled)/, `aligned: ${line}`);
        assert.match(lines.at(-1)!, /3 of 5 jobs; next page: spool ls --cursor 3/);
        assert.doesNotMatch(table.stdout, ESCAPE, 'no colour off a terminal');
      }));

    independent('colour only when asked for with FORCE_COLOR, and never with NO_COLOR', () =>
      withTarget(async ({ target }) => {
        await spool(target, ['add', 'x']);
        const forced = await spool(target, ['ls'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
        assert.match(forced.stdout, BOLD);
        const both = await spool(target, ['ls'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
        assert.doesNotMatch(both.stdout, ESCAPE);
      }));

    test('show, retry, cancel and rm of missing or ineligible jobs exit 1 with the reason on stderr', () =>
      withTarget(async ({ target }) => {
        await spool(target, ['add', 'x']);
        const missing = await spool(target, ['show', '99']);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /job "99" does not exist/);
        const pendingRetry = await spool(target, ['retry', '1']);
        assert.equal(pendingRetry.code, 1);
        assert.match(pendingRetry.stderr, /pending; only failed or cancelled jobs can be retried/);
        assert.equal((await spool(target, ['rm', '99'])).code, 1);
        assert.equal((await spool(target, ['cancel', '99'])).code, 1);
        assert.equal((await spool(target, ['show', ''])).code, 2, 'an empty id is bad usage');
        assert.equal((await spool(target, ['show', 'not-an-id'])).code, 1, 'an id that names no job is a failed lookup');
      }));

    test('cancel, retry and rm move a job through its states', () =>
      withTarget(async ({ target }) => {
        await spool(target, ['add', 'x']);
        assert.equal((await spoolJson<Job>(target, ['cancel', '1'])).status, 'cancelled');
        assert.equal((await spool(target, ['cancel', '1'])).code, 1, 'a cancelled job cannot be cancelled again');
        const retried = await spoolJson<Job>(target, ['retry', '1']);
        assert.deepEqual([retried.status, retried.attempts], ['pending', 0]);
        assert.deepEqual(await spoolJson(target, ['rm', '1']), { id: '1', deleted: true });
        assert.equal((await spool(target, ['show', '1'])).code, 1);
      }));

    test('worker runs jobs from a .js handlers file; stats, ls and show report the outcomes; prune removes them', () =>
      withTarget(async ({ target, start }) => {
        await spool(target, ['add', 'echo', '{"n":1}']);
        await spool(target, ['add', 'echo', '{"n":2}']);
        await spool(target, ['add', 'boom', '--attempts', '1']);
        const worker = start(['worker', '--handlers', HANDLERS, '--concurrency', '3']);
        await worker.waitForOutput(/failed\s+3 boom after 1 attempt: kaput/, 'the failing job to be reported');
        await worker.waitForOutput(/(completed\s+\d echo[\s\S]*){2}/, 'both echo jobs to complete');
        worker.child.kill('SIGINT');
        const { code } = await worker.exited;
        assert.equal(code, 0, worker.stderr());
        assert.match(worker.stdout(), /stopped: finished 3 job\(s\) \(2 completed, 1 failed, 0 cancelled\); released 0 job\(s\)/);

        const { counts, byName } = await spoolJson<{ counts: JobCounts; byName: Record<string, JobCounts> }>(target, ['stats']);
        assert.deepEqual(counts, { pending: 0, running: 0, completed: 2, failed: 1, cancelled: 0 });
        assert.equal(byName.echo!.completed, 2);
        const stats = await spool(target, ['stats']);
        assert.match(stats.stdout, /^NAME\s+PENDING\s+RUNNING\s+COMPLETED\s+FAILED\s+CANCELLED\s+TOTAL$/m);
        assert.match(stats.stdout, /^all\s+0\s+0\s+2\s+1\s+0\s+3$/m);

        const done = await spoolJson<Job>(target, ['show', '1']);
        assert.deepEqual([done.status, done.result, done.progress], ['completed', { echoed: { n: 1 } }, { half: true }]);
        const dead = await spoolJson<Listing>(target, ['ls', '--status', 'failed']);
        assert.deepEqual(dead.jobs.map((j) => [j.id, j.error]), [['3', 'kaput']]);
        const shown = await spool(target, ['show', '3']);
        assert.match(shown.stdout, /^status\s+failed$/m);
        assert.match(shown.stdout, /^error\s+kaput$/m);

        // The dead-letter queue replayed: the failed job runs again.
        assert.deepEqual(await spoolJson(target, ['retry', '--failed', '--name', 'echo']), { retried: 0 }, 'no echo job failed');
        assert.deepEqual(await spoolJson(target, ['retry', '--failed', '--name', 'boom']), { retried: 1 });
        assert.equal((await spoolJson<Job>(target, ['show', '3'])).status, 'pending');
        assert.equal((await spool(target, ['retry'])).code, 2, 'neither an id nor --failed is bad usage');
        assert.equal((await spool(target, ['retry', '3', '--failed'])).code, 2, 'an id and --failed is bad usage');

        assert.deepEqual((await spoolJson<{ pruned: number }>(target, ['prune', '--older-than', '7d'])).pruned, 0);
        await new Promise((r) => setTimeout(r, 20));
        const pruned = await spool(target, ['prune', '--older-than', '1ms']);
        assert.equal(pruned.code, 0);
        assert.match(pruned.stdout, /pruned 2 completed jobs/);
        assert.deepEqual((await spoolJson<{ counts: JobCounts }>(target, ['stats'])).counts, { pending: 1, running: 0, completed: 0, failed: 0, cancelled: 0 });
      }));

    test('worker loads a .ts handlers file', () =>
      withTarget(async ({ target, start }) => {
        await spool(target, ['add', 'greet', '{"who":"ts"}']);
        const worker = start(['worker', '--handlers', TS_HANDLERS]);
        await worker.waitForOutput(/completed\s+1 greet/, 'the job to complete');
        worker.child.kill('SIGTERM');
        assert.equal((await worker.exited).code, 0);
        assert.deepEqual((await spoolJson<Job>(target, ['show', '1'])).result, { hello: 'ts' });
      }));

    test('SIGTERM to spool worker mid-job releases the job unspent and says so', () =>
      withTarget(async ({ target, start }) => {
        await spool(target, ['add', 'hold', '--attempts', '1']);
        await spool(target, ['add', 'echo']);
        const worker = start(['worker', '--handlers', HANDLERS, '--concurrency', '2', '--grace', '300']);
        await worker.waitForOutput(/completed\s+2 echo/, 'the short job to complete');
        await waitForStatus(target, '1', 'running');
        worker.child.kill('SIGTERM');
        const { code } = await worker.exited;
        assert.equal(code, 0, worker.stderr());
        assert.match(worker.stdout(), /SIGTERM: stopping; claiming nothing more, 1 running job\(s\) get 300ms to finish/);
        assert.match(worker.stdout(), /finished 1 job\(s\) \(1 completed, 0 failed, 0 cancelled\); released 1 job\(s\) unspent back to pending \(1\)/);
        const job = await spoolJson<Job>(target, ['show', '1']);
        // Unspent: pending again with its only attempt still ahead, so the next worker runs it.
        assert.deepEqual([job.status, job.attempts, job.maxAttempts], ['pending', 0, 1]);
      }));

    test('ls --watch and show --follow update as a worker in another process makes progress; add --wait exits 0 or 1 by outcome', () =>
      withTarget(async ({ target, start }) => {
        await spool(target, ['add', 'steps', '{"steps":8,"stepMs":300}']);
        const watch = start(['ls', '--watch']);
        const follow = start(['show', '1', '--follow']);
        await watch.waitForOutput(/pending\s+0\/3/, 'the first listing');
        await follow.waitForOutput(/^status\s+pending$/m, 'the snapshot');
        const worker = start(['worker', '--handlers', HANDLERS, '--concurrency', '2']);
        // The worker's ticks write progress about once a second: the live views show it mid-job, then the end.
        await watch.waitForOutput(/running\s+1\/3 .*progress \{"step":\d,"of":8\}/, 'progress of the running job in ls --watch');
        await follow.waitForOutput(/progress {2}\{"step":\d,"of":8\}/, 'a progress line in show --follow');
        await watch.waitForOutput(/completed\s+1\/3 .*→ \{"steps":8\}/, 'the completed job in ls --watch');
        const followed = await follow.exited;
        assert.equal(followed.code, 0, 'show --follow ends with the job, exit 0 when it completed');
        assert.match(follow.stdout(), /completed \{"steps":8\}\n$/);
        watch.child.kill('SIGINT');
        assert.equal((await watch.exited).code, 0, 'ls --watch ends on Ctrl-C, exit 0');

        const waited = await spool(target, ['add', 'echo', '{"x":1}', '--wait', '--json']);
        assert.equal(waited.code, 0, waited.stderr);
        assert.deepEqual((JSON.parse(waited.stdout) as Job).result, { echoed: { x: 1 } });
        const failed = await spool(target, ['add', 'boom', '--attempts', '1', '--wait']);
        assert.equal(failed.code, 1);
        assert.match(failed.stderr, /failed after 1 of 1 attempts: kaput/);
        worker.child.kill('SIGTERM');
        assert.equal((await worker.exited).code, 0);
        const timedOut = await spool(target, ['add', 'echo', '--wait', '--wait-timeout', '300ms']);
        assert.equal(timedOut.code, 1);
        assert.match(timedOut.stderr, /did not finish within 300 ms/);
      }));

    test('doctor passes a fresh database and fails, exit 1, with the fix when an index is missing', () =>
      withTarget(async ({ target, sql, anIndex }) => {
        await spool(target, ['add', 'x']);
        const healthy = await spool(target, ['doctor', '--json']);
        const report = JSON.parse(healthy.stdout) as { ok: boolean; checks: { name: string; status: string; fix?: string }[] };
        const byName = new Map(report.checks.map((c) => [c.name, c]));
        for (const name of ['connection', 'schema', 'indexes', 'leases']) assert.equal(byName.get(name)?.status, 'ok', `${name}: ${JSON.stringify(byName.get(name))}`);
        // A server's own settings (autovacuum, connections) are whatever the test server has: exit follows the verdicts.
        assert.equal(report.ok, report.checks.every((c) => c.status !== 'fail'));
        assert.equal(healthy.code, report.ok ? 0 : 1);

        await sql(`DROP INDEX ${anIndex}`);
        const broken = await spool(target, ['doctor']);
        assert.equal(broken.code, 1);
        assert.match(broken.stdout, new RegExp(`FAIL\\s+indexes\\s+missing: ${anIndex.split('.').pop()}`));
        assert.match(broken.stdout, /fix: CREATE INDEX/);
      }));

    independent('--help of every command shows an example, and --version prints the version', () =>
      withTarget(async ({ target }) => {
        const commands = ['worker', 'add', 'ls', 'show', 'retry', 'cancel', 'rm', 'stats', 'prune', 'doctor', 'bench'];
        const helps = await inParallel(commands, (command) => spool(target, [command, '--help']));
        for (const [i, command] of commands.entries()) {
          const help = helps[i]!;
          assert.equal(help.code, 0);
          assert.match(help.stdout, new RegExp(`Usage: spool ${command}`));
          assert.match(help.stdout, /Examples:\n {2}\$ spool /, `${command} --help has examples`);
        }
        const version = await spool(target, ['--version']);
        assert.equal(version.code, 0);
        assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
      }));
  });
}

/** Maps over `items` with at most four at once (each is a process start: ~1 s of CPU through tsx). */
async function inParallel<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  return results;
}

/** Polls `spool show` until the job is in `status`. */
async function waitForStatus(target: CliTarget, id: string, status: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await spoolJson<Job>(target, ['show', id])).status === status) return;
    if (Date.now() > deadline) throw new Error(`job ${id} did not become ${status} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
