import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnFixture } from './support/children.ts';

test('the benchmark harness records a peer error nobody awaits as that run\'s error, and the run goes on', async () => {
  const fixture = spawnFixture('bench-stray-errors.ts', {});
  const line = await fixture.waitForLine((l) => l.startsWith('{'), 'the harness results', 60_000);
  assert.equal(await fixture.exited, 0, fixture.stderr());
  const { errors, runs } = JSON.parse(line) as { errors: { run: number; message: string }[]; runs: number };
  assert.deepEqual(errors, [
    { run: 1, message: 'Error: terminating connection due to administrator command' },
    { run: 2, message: 'Error: Connection terminated unexpectedly' },
  ]);
  assert.equal(runs, 1, 'run 3 measured');
});
