import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { StoreFactory } from '../suites/conformance.ts';

/** A fresh directory for one test's SQLite files; `cleanup` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh SQLite file URL per call, with its cleanup. */
export function sqliteUrl(): { url: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir();
  return { url: `sqlite:${join(dir, 'spool.db')}`, cleanup };
}

/** Store factory for the conformance suite: a real file in a fresh directory per test. */
export const sqliteStoreFactory: StoreFactory = async () => {
  const { dir, cleanup } = tempDir();
  const store = new SqliteStore({ path: join(dir, 'spool.db') });
  return { store, cleanup: async () => { await store.close(); cleanup(); } };
};
