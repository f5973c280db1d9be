import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';

const BIN = fileURLToPath(new URL('../bin/spool.js', import.meta.url));
const HANDLERS = fileURLToPath(new URL('./fixtures/serve-handlers.ts', import.meta.url));

/** Runs `spool …` in its own process; collects its output. */
function spool(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, SPOOL_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

test('spool serve runs the API and, with --handlers, workers in the same process; SIGTERM stops it cleanly', async () => {
  const { dir, cleanup } = tempDir();
  const run = spool(['serve', '--db', `sqlite:${join(dir, 'spool.db')}`, '--port', '0', '--handlers', HANDLERS, '--concurrency', '2']);
  try {
    await waitFor(() => /spool serving sqlite:.* at http:\/\/127\.0\.0\.1:\d+\/ with workers for echo/.test(run.out()), `the serving line (stderr: ${run.err()})`, 30_000);
    const base = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(run.out())![1]!;
    const added = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'echo', data: { hi: 1 } }) });
    const { id } = (await added.json()) as { id: string };
    let job: { status: string; result: unknown } | undefined;
    await waitFor(async () => {
      job = (await (await fetch(`${base}/api/jobs/${id}`)).json()) as typeof job;
      return job!.status === 'completed';
    }, 'the job to be run by the served workers', 15_000);
    assert.deepEqual(job!.result, { echoed: { hi: 1 } });
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.err());
    assert.match(run.out(), /spool: SIGTERM: stopping/);
  } finally {
    run.child.kill('SIGKILL');
    cleanup();
  }
});

test('spool serve refuses a non-loopback host without SPOOL_TOKEN and a bad port: bad usage, exit 2', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const wide = spool(['serve', '--db', `sqlite:${join(dir, 'spool.db')}`, '--host', '0.0.0.0', '--port', '0']);
    assert.equal(await wide.exited, 2);
    assert.match(wide.err(), /no token is set: set SPOOL_TOKEN/);
    const bad = spool(['serve', '--port', '99999']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.err(), /must be a port number from 0 to 65535, got 99999/);
  } finally {
    cleanup();
  }
});

test('spool serve --demo (npm start) runs deep scans with progress on a throwaway SQLite file, removed on exit', async () => {
  const run = spool(['serve', '--demo', '--port', '0'], { SPOOL_DATABASE_URL: '' });
  try {
    await waitFor(() => /spool serving sqlite:.*spool-demo-.*demo\.db at http:\/\/127\.0\.0\.1:\d+\/ with demo deep scans/.test(run.out()), `the serving line (stderr: ${run.err()})`, 30_000);
    const file = /spool serving sqlite:(\S+) at/.exec(run.out())![1]!;
    const base = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(run.out())![1]!;
    let sawProgress = false;
    await waitFor(async () => {
      const { jobs } = (await (await fetch(`${base}/api/jobs?name=deep-scan&status=running`)).json()) as { jobs: { progress: { expert?: number; of?: number } | null }[] };
      sawProgress ||= jobs.some((j) => j.progress?.of === 11 && (j.progress.expert ?? 0) >= 1);
      const stats = (await (await fetch(`${base}/api/stats`)).json()) as { byName: Record<string, { completed: number }> };
      return sawProgress && (stats.byName['deep-scan']?.completed ?? 0) >= 1 && (stats.byName['send-report']?.completed ?? 0) >= 1;
    }, 'a scan reporting progress of the eleven experts, then scans and reports completed', 30_000);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.err());
    assert.equal(existsSync(file), false, 'the throwaway database is removed');
  } finally {
    run.child.kill('SIGKILL');
  }
});
