import Database from 'better-sqlite3';
import { join } from 'node:path';
import { expectedIndexes } from '../src/store/sqlite/schema.ts';
import { cliSuite } from './suites/cli-commands.ts';
import { tempDir } from './support/sqlite.ts';

cliSuite('SQLite', async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'spool.db');
  return {
    target: { url: `sqlite:${path}` },
    anIndex: expectedIndexes().at(-1)!.name,
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
