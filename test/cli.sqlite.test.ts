import Database from 'better-sqlite3';
import { join } from 'node:path';
import { cliSuite } from './suites/cli-commands.ts';
import { tempDir } from './support/sqlite.ts';

cliSuite('SQLite', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'spool.db');
  return {
    target: { url: `sqlite:${path}` },
    anIndex: 'spool_jobs_name_id',
    async sql(statement) {
      const db = new Database(path);
      try {
        db.exec(statement);
      } finally {
        db.close();
      }
    },
    cleanup: async () => cleanup(),
  };
}, { storeIndependent: true });
