import { join } from 'node:path';
import { openQueue } from '../src/index.ts';
import { tempDir } from './support/sqlite.ts';
import { hubBehaviour } from './suites/hub-behaviour.ts';

hubBehaviour('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const url = `sqlite:${join(dir, 'spool.db')}`;
  return { url, open: (options = {}) => openQueue({ url, ...options }), cleanup: async () => cleanup() };
});
