import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exec, type ExecResult } from './exec.ts';

/** The real `spool` binary of this checkout (it runs src/cli through tsx). */
export const SPOOL_BIN = fileURLToPath(new URL('../../bin/spool.js', import.meta.url));

/** Where a CLI test points the binary: env SPOOL_DATABASE_URL (and SPOOL_SCHEMA for PostgreSQL). */
export interface CliTarget {
  url: string;
  schema?: string;
}

/** Env for the binary: the target, and no colour unless a test asks (output is parsed). */
export function cliEnv(target: CliTarget, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { SPOOL_DATABASE_URL: target.url, SPOOL_SCHEMA: target.schema, NO_COLOR: '1', FORCE_COLOR: undefined, ...extra };
}

/** Runs `spool ...args` to completion. */
export function spool(target: CliTarget, args: string[], options: { env?: Record<string, string | undefined>; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return exec(process.execPath, [SPOOL_BIN, ...args], { env: cliEnv(target, options.env), input: options.input, cwd: options.cwd, timeoutMs: options.timeoutMs ?? 60_000 });
}

/** Runs `spool ...args --json`, expects exit 0, and returns the parsed output. */
export async function spoolJson<T = unknown>(target: CliTarget, args: string[], options: Parameters<typeof spool>[2] = {}): Promise<T> {
  const result = await spool(target, [...args, '--json'], options);
  if (result.code !== 0) throw new Error(`spool ${args.join(' ')} --json exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** A long-running `spool` process (worker, --watch): its output so far, and waits on it. */
export interface RunningSpool {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout matches; fails after `timeoutMs` or when the process ends first. */
  waitForOutput(match: RegExp, what: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** SIGKILLs the processes given that are still running (a test failed before stopping them), and waits for them. */
export async function killStragglers(processes: Iterable<RunningSpool>): Promise<void> {
  const running = [...processes].filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  for (const p of running) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
}

export function startSpool(
  target: CliTarget,
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; command?: string[] } = {},
): RunningSpool {
  const [program, ...prefix] = options.command ?? [process.execPath, SPOOL_BIN];
  const child = spawn(program!, [...prefix, ...args], { env: { ...process.env, ...cliEnv(target, options.env) }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const wakers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const wake of wakers) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      for (const wake of wakers) wake();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(match, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const done = (settle: () => void) => {
          clearTimeout(timer);
          wakers.delete(check);
          settle();
        };
        const check = () => {
          if (match.test(out)) return done(resolve);
          if (child.exitCode !== null || child.signalCode !== null) {
            done(() => reject(new Error(`spool ${args.join(' ')} ended (${child.exitCode ?? child.signalCode}) before ${what}\nstdout:\n${out}\nstderr:\n${err}`)));
          }
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
        wakers.add(check);
        check();
      });
    },
  };
}
