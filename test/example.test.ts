/**
 * The README's example (npm run example = examples/deep-scan): it runs to the end and prints its statement
 * count, and Ctrl-C (SIGINT) mid-run stops it gracefully: no job is left 'running' for a lease to expire.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openQueue } from '../src/index.ts';
import { exec } from './support/exec.ts';
import { startSpool } from './support/cli.ts';
import { tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';

const EXAMPLE = fileURLToPath(new URL('../examples/deep-scan/main.ts', import.meta.url));

test('the deep-scan example runs its ten scans to the end and reports the statements it saved', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const run = await exec(process.execPath, ['--import', 'tsx', EXAMPLE], { env: { SPOOL_DATABASE_URL: `sqlite:${join(dir, 'x.db')}` }, timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /× fewer statements; the listing above took 1 query/);
  } finally {
    cleanup();
  }
});

test('Ctrl-C (SIGINT) mid-run stops the example gracefully: nothing left running, nothing spent', async () => {
  const { dir, cleanup } = tempDir();
  const url = `sqlite:${join(dir, 'x.db')}`;
  // startSpool runs bin/spool.js; here the example itself runs, through the same output-collecting helper.
  const example = startSpool({ url }, [], { env: {}, command: [process.execPath, '--import', 'tsx', EXAMPLE] });
  try {
    await example.waitForOutput(/10 scans at once/, 'the example to start');
    const queue = await openQueue(url);
    try {
      await waitFor(async () => (await queue.counts()).running > 0, 'scans to be running', 30_000);
      example.child.kill('SIGINT');
      const { code } = await example.exited;
      assert.equal(code, 0, example.stderr());
      assert.match(example.stdout(), /SIGINT: stopping/);
      assert.match(example.stdout(), /now 0 running/);
      const counts = await queue.counts();
      assert.equal(counts.running, 0);
      assert.equal(counts.completed + counts.pending, 10);
      const pending = await queue.listJobs({ status: 'pending' });
      assert.ok(pending.every((j) => j.attempts === 0), 'released scans keep their attempts');
    } finally {
      await queue.close();
    }
  } finally {
    if (example.child.exitCode === null) example.child.kill('SIGKILL');
    cleanup();
  }
});
