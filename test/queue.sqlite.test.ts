import { openQueue } from '../src/index.ts';
import { tempDir } from './support/sqlite.ts';
import { queueBehaviour } from './suites/queue-behaviour.ts';
import { join } from 'node:path';

queueBehaviour('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const url = `sqlite:${join(dir, 'spool.db')}`;
  return { open: (options = {}) => openQueue({ url, ...options }), cleanup: async () => cleanup() };
});
