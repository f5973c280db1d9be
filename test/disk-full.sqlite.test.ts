import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openQueue, type Queue } from '../src/index.ts';
import { recordingLogger } from './suites/reliability.ts';
import { tempDir } from './support/sqlite.ts';
import { waitFor } from './support/wait.ts';

/**
 * A full disk under a running SQLite queue: a clear error (one line, not one per job or retry), nothing
 * corrupted (PRAGMA integrity_check), and recovery once space returns, with the WAL checkpointed and
 * truncated instead of refilling the disk. Two ways to fill it: a real 6 MiB tmpfs filled with files (when
 * this process may mount, as root in CI), and SQLite's own PRAGMA max_page_count on the store's connection
 * (anywhere). Both give a real SQLITE_FULL from SQLite.
 */

interface Disk {
  file: string;
  /** Fills the disk (or the page budget) so the next write fails with SQLITE_FULL. */
  fill(queue: Queue): void;
  /** Gives the space back. */
  free(queue: Queue): void;
  teardown(): void;
}

/** The store's own better-sqlite3 handle (PRAGMA max_page_count is per connection). Test-only access. */
const handleOf = (queue: Queue) => (queue.store as unknown as { db: Database.Database }).db;

function tmpfsDisk(): Disk | null {
  const dir = mkdtempSync(join(tmpdir(), 'spool-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  let fillers = 0;
  return {
    file: join(dir, 'spool.db'),
    fill() {
      try {
        for (;;) writeFileSync(join(dir, `filler-${fillers++}`), Buffer.alloc(16 * 1024));
      } catch (error) {
        assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
      }
    },
    free() {
      for (let i = 0; i < fillers; i++) rmSync(join(dir, `filler-${i}`), { force: true });
    },
    teardown() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pageBudgetDisk(): Disk {
  const { dir, cleanup } = tempDir();
  return {
    file: join(dir, 'spool.db'),
    fill(queue) {
      const db = handleOf(queue);
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    },
    free(queue) {
      handleOf(queue).pragma('max_page_count = 1073741823');
    },
    teardown: cleanup,
  };
}

async function fullDiskRun(t: { diagnostic(m: string): void }, disk: Disk, payloadBytes: number): Promise<void> {
  const logger = recordingLogger();
  const queue = await openQueue({ url: `sqlite:${disk.file}`, logger });
  try {
    const payload = 'p'.repeat(payloadBytes);
    const ids = await queue.addBulk(Array.from({ length: 13 }, (_, i) => ({ name: 'big', data: { i, payload } })));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let returned = 0;
    const worker = queue.worker(
      {
        big: async (_job, ctx) => {
          ctx.progress({ half: payload.slice(0, payloadBytes / 2) });
          await gate;
          returned++;
          return { payload };
        },
      },
      { concurrency: 13, pollMs: 20, progressFlushMs: 50 },
    );
    await worker.start();
    await waitFor(async () => (await queue.counts()).running === 13, 'all 13 jobs running');
    disk.fill(queue);
    release(); // the handlers return while the disk is full: their outcomes cannot be written
    await waitFor(() => returned === 13 && logger.lines.length > 0, 'the handlers to return and the failure to be reported');
    await new Promise((r) => setTimeout(r, 600)); // several retries and ticks fail meanwhile
    const during = await queue.counts();
    assert.equal(during.completed, 0, 'nothing could be written');
    assert.equal(during.running, 13, 'the jobs stay running under their live worker, not lost');
    const errors = logger.lines.filter((l) => l.startsWith('error: '));
    assert.equal(errors.length, 1, `one clear error line for the fault, not one per retry or job:\n${logger.lines.join('\n')}`);
    assert.match(errors[0]!, /disk holding .*spool\.db is full.*nothing was written.*Free some space/);
    const check = new Database(disk.file, { readonly: true });
    assert.deepEqual(check.pragma('integrity_check'), [{ integrity_check: 'ok' }], 'not corrupted while full');
    check.close();

    disk.free(queue);
    await waitFor(async () => (await queue.counts()).completed === 13, 'every job to complete once space returns', 20_000);
    for (const id of ids) assert.deepEqual(((await queue.getJob(id))!.result as { payload: string }).payload.length, payloadBytes);
    const wal = `${disk.file}-wal`;
    const walBytes = existsSync(wal) ? statSync(wal).size : 0;
    t.diagnostic(`payload ${payloadBytes} B: log ${JSON.stringify(logger.lines.map((l) => l.slice(0, 60)))}; WAL after recovery ${walBytes} B`);
    assert.ok(walBytes < 1024 * 1024, `the WAL was checkpointed and truncated after the fault (${walBytes} B)`);
    assert.equal(logger.lines.filter((l) => /works again after/.test(l)).length, 1, 'one line says it works again');
    await worker.stop();
  } finally {
    await queue.close();
  }
  const after = new Database(disk.file, { readonly: true });
  assert.deepEqual(after.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  assert.equal((after.prepare(`SELECT count(*) AS n FROM spool_jobs WHERE status = 'completed'`).get() as { n: number }).n, 13);
  after.close();
}

for (const payloadBytes of [50_000, 100]) {
  test(`full disk (a real tmpfs when this process may mount, else the page budget), ${payloadBytes} B payloads: clear error, no corruption, recovery`, async (t) => {
    const tmpfs = tmpfsDisk();
    t.diagnostic(tmpfs ? 'disk: a 6 MiB tmpfs filled with files' : 'disk: mount not permitted here; PRAGMA max_page_count instead');
    const disk = tmpfs ?? pageBudgetDisk();
    try {
      await fullDiskRun(t, disk, payloadBytes);
    } finally {
      disk.teardown();
    }
  });

  test(`page budget exhausted (PRAGMA max_page_count), ${payloadBytes} B payloads: clear error, no corruption, recovery`, async (t) => {
    const disk = pageBudgetDisk();
    try {
      await fullDiskRun(t, disk, payloadBytes);
    } finally {
      disk.teardown();
    }
  });
}
