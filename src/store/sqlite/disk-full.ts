import type Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Free space at which the store leaves recovery mode: far more than a WAL between two automatic checkpoints (4 MB). */
const ROOM_BYTES = 64 * 1024 * 1024;

/**
 * Recovery from a full disk (SQLITE_FULL). In WAL mode every commit appends to the -wal file, and SQLite
 * copies it into the database only at an automatic checkpoint, once the WAL holds 1,000 pages (4 MB).
 * Seen without this (issue #12): after SQLITE_FULL, space freed on the disk was eaten by the WAL again
 * before any checkpoint ran, the disk refilled, and 9 of 13 jobs stayed running for good.
 *
 * So after a SQLITE_FULL the store recovers: before each write it checkpoints the WAL into the database and
 * truncates it (PRAGMA wal_checkpoint(TRUNCATE)); while that fails the write is not tried (nothing more is
 * appended), and after each write it checkpoints again, so the WAL stays near empty. It leaves recovery once
 * the disk has 64 MiB free. SQLite never corrupts the file on SQLITE_FULL; `PRAGMA integrity_check` stays ok.
 */
export class DiskFullRecovery {
  private recovering = false;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
  ) {}

  /** True while the store recovers from a full disk. */
  get active(): boolean {
    return this.recovering;
  }

  /** A statement failed: enter recovery if it was SQLITE_FULL. Returns whether it was. */
  failed(error: unknown): boolean {
    if (!isDiskFull(error)) return false;
    this.recovering = true;
    this.checkpoint(); // frees the WAL's space at once if the database file has room to take it
    return true;
  }

  /** Before a write while recovering: the WAL must be checkpointed first, or the write would refill the disk. Throws SQLITE_FULL if it cannot be. */
  beforeWrite(): void {
    if (!this.recovering) return;
    const error = this.checkpoint();
    if (error) throw error;
  }

  /** After a write while recovering: checkpoint again, and leave recovery once the disk has room. */
  afterWrite(): void {
    if (!this.recovering) return;
    this.checkpoint();
    if (this.path === ':memory:') return;
    try {
      const fs = statfsSync(dirname(this.path));
      if (fs.bavail * fs.bsize >= ROOM_BYTES) this.recovering = false;
    } catch {
      // No statfs here: stay careful, it only costs a checkpoint per write.
    }
  }

  /** Checkpoints and truncates the WAL; returns the error if that failed (or left frames behind). */
  private checkpoint(): Error | undefined {
    try {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      if (result && result.busy !== 0) return Object.assign(new Error('database or disk is full (the WAL could not be checkpointed: another connection reads)'), { code: 'SQLITE_FULL' });
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }
}

/** SQLITE_FULL, or an I/O error from a full file system. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' && /full|space/i.test(String((error as Error).message));
}
