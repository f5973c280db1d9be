import Database from 'better-sqlite3';
import { join } from 'node:path';
import { reliability } from './suites/reliability.ts';
import { tempDir } from './support/sqlite.ts';

reliability('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'spool.db');
  return {
    url: `sqlite:${file}`,
    options: {},
    async sql(text) {
      const db = new Database(file);
      try {
        db.exec(text.replaceAll('{jobs}', 'spool_jobs'));
      } finally {
        db.close();
      }
    },
    cleanup: async () => cleanup(),
  };
});
