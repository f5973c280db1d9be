import { join } from 'node:path';
import { openQueue } from '../src/index.ts';
import { tempDir } from './support/sqlite.ts';
import { serverApi } from './suites/server-api.ts';

serverApi('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const queue = await openQueue(`sqlite:${join(dir, 'spool.db')}`);
  return { queue, cleanup: async () => { await queue.close(); cleanup(); } };
});
