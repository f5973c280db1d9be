import { Redis } from 'ioredis';

/** Where the benchmark finds Redis: env BENCH_REDIS_URL, else 127.0.0.1:6379. */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Counts Redis commands from INFO commandstats (server-wide, commands run inside Lua scripts included),
 * and which of them write, from COMMAND INFO flags. Deltas between two snapshots are what a workload
 * sent. Server-wide: anything else using this Redis at the same time is counted too.
 */
export class RedisCommandStats {
  private readonly writeFlags = new Map<string, boolean>();

  constructor(private readonly redis: Redis) {}

  async snapshot(): Promise<Map<string, number>> {
    const text = (await this.redis.info('commandstats')) as string;
    const calls = new Map<string, number>();
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
    return calls;
  }

  /** Commands and write commands between two snapshots, the counter's own INFO and COMMAND calls left out. */
  async delta(before: Map<string, number>, after: Map<string, number>): Promise<{ commands: number; writes: number }> {
    let commands = 0;
    let writes = 0;
    for (const [name, n] of after) {
      // INFO and COMMAND are the counter's own calls, never the system's.
      if (name === 'info' || name.startsWith('command')) continue;
      const d = n - (before.get(name) ?? 0);
      if (d <= 0) continue;
      commands += d;
      if (await this.isWrite(name)) writes += d;
    }
    return { commands, writes };
  }

  private async isWrite(name: string): Promise<boolean> {
    let write = this.writeFlags.get(name);
    if (write === undefined) {
      const base = name.split('|')[0]!;
      const info = (await this.redis.call('COMMAND', 'INFO', base)) as unknown[][];
      const flags = (info[0]?.[2] ?? []) as string[];
      write = flags.includes('write');
      this.writeFlags.set(name, write);
    }
    return write;
  }
}

/** The Redis server version, e.g. "7.0.15". */
export async function redisVersion(): Promise<string> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    const text = (await redis.info('server')) as string;
    return /redis_version:(\S+)/.exec(text)?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix:` (SCAN + UNLINK in batches): a session's cleanup, nothing else touched. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
