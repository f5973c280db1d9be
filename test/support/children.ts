import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A test fixture running in its own node process: its stdout lines, its stderr, and how it ended. */
export interface Fixture {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  /** Resolves when a line matching `match` has been printed; fails after `timeoutMs` or if the process exits first. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal) once the process has ended. */
  exited: Promise<number | NodeJS.Signals>;
  /** The exit code (or signal); rejects if the process is still alive after `timeoutMs` (a leaked timer or connection). */
  exitWithin(timeoutMs?: number): Promise<number | NodeJS.Signals>;
  /** SIGTERM, then the exit code; rejects if the process does not end on its own within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | NodeJS.Signals>;
}

/** Spawns `node --import tsx test/fixtures/<script>` with `env` added to this process's environment. */
export function spawnFixture(script: string, env: Record<string, string>): Fixture {
  const path = fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve(code ?? signal!);
    });
  });
  const fixture: Fixture = {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine(match, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line !== undefined) return finish(() => resolve(line));
          if (child.exitCode !== null || child.signalCode !== null) {
            return finish(() => reject(new Error(`${script} exited (${child.exitCode ?? child.signalCode}) before ${what}; stderr:\n${stderr}`)));
          }
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${script}; stderr:\n${stderr}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async exitWithin(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${script} (pid ${child.pid}) did not end within ${timeoutMs} ms: a timer, socket or connection is left open; stderr:\n${stderr}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return fixture.exitWithin(timeoutMs);
    },
  };
  return fixture;
}

/** Kills whatever is still running (after a failed test), and waits for it to end. */
export async function killAll(fixtures: Fixture[]): Promise<void> {
  for (const f of fixtures) if (f.child.exitCode === null && f.child.signalCode === null) f.child.kill('SIGKILL');
  await Promise.all(fixtures.map((f) => f.exited));
}
