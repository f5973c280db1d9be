import { openQueue } from '../src/index.ts';
import { sqliteUrl } from './support/sqlite.ts';
import { typedJobsBehaviour } from './suites/typed-jobs-behaviour.ts';

typedJobsBehaviour('sqlite', async () => {
  const { url, cleanup } = sqliteUrl();
  return { open: () => openQueue({ url }), cleanup: async () => cleanup() };
});
