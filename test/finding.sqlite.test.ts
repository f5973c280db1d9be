import { join } from 'node:path';
import { openQueue } from '../src/index.ts';
import { tempDir } from './support/sqlite.ts';
import { findingBehaviour } from './suites/finding-behaviour.ts';

findingBehaviour('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  return { queue: await openQueue(`sqlite:${join(dir, 'spool.db')}`), cleanup: async () => cleanup() };
});
