import { existsSync, readFileSync } from 'node:fs';
import { type Fixture, spawnFixture } from './children.ts';

/** A running test/fixtures/log-worker.ts process and the worker id it printed (stored as job.processingBy). */
export interface LogWorker {
  fixture: Fixture;
  workerId: string;
}

/** Settings of one log-worker process. */
export interface LogWorkerSettings {
  url: string;
  /** File the handlers append `start <id> <pid>` and `done <id> <pid>` lines to. */
  log: string;
  /** How long each job takes, ms. */
  workMs?: number;
  leaseMs?: number;
  concurrency?: number;
  /** SQLite busy timeout of the worker's connection (ms); default the store's 10 s. */
  busyMs?: number;
}

/** Spawns a log-worker process and resolves once its worker runs. */
export async function startLogWorker(s: LogWorkerSettings): Promise<LogWorker> {
  const fixture = spawnFixture('log-worker.ts', {
    SPOOL_TEST_URL: s.url,
    LOG_FILE: s.log,
    WORK_MS: String(s.workMs ?? 0),
    LEASE_MS: String(s.leaseMs ?? 30_000),
    CONCURRENCY: String(s.concurrency ?? 4),
    ...(s.busyMs !== undefined ? { BUSY_MS: String(s.busyMs) } : {}),
  });
  const ready = await fixture.waitForLine((line) => line.startsWith('ready '), 'the worker to start');
  return { fixture, workerId: ready.slice('ready '.length) };
}

/** Resolves with the exit code (or signal) of the process; fails if it is still running after `timeoutMs`. */
export async function exitWithin(worker: LogWorker, timeoutMs = 15_000): Promise<number | NodeJS.Signals> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`worker process ${worker.fixture.child.pid} did not exit within ${timeoutMs} ms; stderr:\n${worker.fixture.stderr()}`)), timeoutMs);
  });
  try {
    return await Promise.race([worker.fixture.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line of a log-worker log. */
export interface LogLine {
  event: 'start' | 'done';
  id: string;
  pid: number;
}

/** The lines of a log-worker log (none before the file exists). */
export function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [event, id, pid] = line.split(' ');
      return { event: event as LogLine['event'], id: id!, pid: Number(pid) };
    });
}
