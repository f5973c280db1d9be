import { openQueue } from '../src/index.ts';
import { sqliteUrl } from './support/sqlite.ts';
import { flowBehaviour } from './suites/flow-behaviour.ts';

flowBehaviour('sqlite', async () => {
  const { url, cleanup } = sqliteUrl();
  return { open: () => openQueue({ url }), cleanup: async () => cleanup() };
});
