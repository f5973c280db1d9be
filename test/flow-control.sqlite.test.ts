import { join } from 'node:path';
import { openQueue } from '../src/index.ts';
import { tempDir } from './support/sqlite.ts';
import { flowControlBehaviour } from './suites/flow-control.ts';

flowControlBehaviour('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const url = `sqlite:${join(dir, 'spool.db')}`;
  return { open: () => openQueue({ url }), cleanup: async () => cleanup() };
});
