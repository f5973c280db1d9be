import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadHandlers } from '../src/cli/handlers-file.ts';
import { tempDir } from './support/sqlite.ts';

const SRC_INDEX = new URL('../src/index.ts', import.meta.url).href;
const ZOD = import.meta.resolve('zod');

test('--handlers FILE may default-export typed jobs (defineJob): the worker and the server know their schemas', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'jobs.ts'), [
      `import { defineJob } from '${SRC_INDEX}';`,
      `import { z } from '${ZOD}';`,
      `export default [defineJob('deep-scan', z.object({ repo: z.string() }), async (job) => job.data.repo)];`,
    ].join('\n'));
    const loaded = await loadHandlers('jobs.ts', dir);
    assert.ok(Array.isArray(loaded));
    assert.equal(loaded[0]!.name, 'deep-scan');
  } finally {
    cleanup();
  }
});
