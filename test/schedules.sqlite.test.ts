import { join } from 'node:path';
import { openQueue } from '../src/index.ts';
import { tempDir } from './support/sqlite.ts';
import { scheduleBehaviour } from './suites/schedules-behaviour.ts';

scheduleBehaviour('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const url = `sqlite:${join(dir, 'spool.db')}`;
  return {
    open: (options = {}) => openQueue({ url, ...options }),
    childEnv: { SPOOL_TEST_URL: url },
    cleanup: async () => cleanup(),
  };
});
