import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { pgVersion } from './pg-admin.ts';
import { redisVersion } from './redis-stats.ts';

/** The machine and software a run measured, for the report. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  node: string;
  postgres: string;
  redis: string;
  sqlite: string;
  /** 1-minute load average when the run started: other work on the machine skews figures. */
  loadAtStart: number;
  packages: Record<string, string>;
}

function packageVersion(name: string): string {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function orUnknown(p: () => Promise<string>): Promise<string> {
  try {
    return await p();
  } catch (error) {
    return `unavailable (${(error as Error).message})`;
  }
}

export async function describeMachine(): Promise<MachineInfo> {
  const db = new Database(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: await orUnknown(() => pgVersion()),
    redis: await orUnknown(() => redisVersion()),
    sqlite,
    loadAtStart: Math.round(loadavg()[0]! * 100) / 100,
    packages: Object.fromEntries(
      ['bullmq', 'ioredis', 'pg-boss', 'graphile-worker', 'better-sqlite3', 'pg'].map((n) => [n, packageVersion(n)]),
    ),
  };
}
