import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A worker child process running test/fixtures/log-worker.ts. */
export interface ChildWorker {
  child: ChildProcess;
  /** The worker id it printed (host:pid:random), stored as job.processingBy. */
  workerId: string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `node --import tsx test/fixtures/log-worker.ts` with `args` and resolves once the worker runs
 * (it printed `ready`); fails if it exits first or is not ready within `timeoutMs`.
 */
export function spawnLogWorker(args: Record<string, string | number>, timeoutMs = 30_000): Promise<ChildWorker> {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/log-worker.ts', ...argv], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`log-worker not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^ready (\S+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, workerId: match[1]!, exited });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`log-worker exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
}

/** Resolves with how the child exited; fails if it is still running after `timeoutMs`. */
export async function exitOf(worker: ChildWorker, timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`worker process ${worker.child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([worker.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One parsed line of a log-worker log. */
export interface LogLine {
  event: 'start' | 'done';
  id: string;
  pid: number;
}

/** The lines of a log-worker log (none if the file does not exist yet). */
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
