import { join } from 'node:path';
import { tempDir } from './support/sqlite.ts';
import { openTracedSqliteQueue, SqliteStatementCounter } from './support/wire.ts';
import { queueBehaviour } from './suites/queue-behaviour.ts';

queueBehaviour('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'spool.db');
  const wire = new SqliteStatementCounter();
  return {
    // Every queue traced at the driver: statement counts are asserted there too, not only by the store.
    open: async (options = {}) => openTracedSqliteQueue(path, wire, options),
    wire,
    childEnv: { SPOOL_TEST_URL: `sqlite:${path}` },
    cleanup: async () => cleanup(),
  };
});
