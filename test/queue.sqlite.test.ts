import { join } from 'node:path';
import { tempDir } from './support/sqlite.ts';
import { openTracedSqliteQueue, SqliteStatementCounter } from './support/wire.ts';
import { queueBehaviour } from './suites/queue-behaviour.ts';

queueBehaviour('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'spool.db');
  const wire = new SqliteStatementCounter();
  let first = true;
  return {
    // Every queue traced at the driver: statement counts are asserted there too, not only by the store. The
    // first queue's opening (its migration check, which its store does not count) is not counted.
    open: async (options = {}) => {
      const queue = openTracedSqliteQueue(path, wire, options);
      if (first) wire.reset();
      first = false;
      return queue;
    },
    wire,
    childEnv: { SPOOL_TEST_URL: `sqlite:${path}` },
    cleanup: async () => cleanup(),
  };
});
