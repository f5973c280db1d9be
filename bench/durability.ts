// Single add() calls per second on SQLite at durability 'full' and 'normal', interleaved rounds on fresh
// files: what the durability option buys. `npx tsx bench/durability.ts [adds per round] [rounds]`.
// A figure from a loaded machine is a rough ratio, not a benchmark result; say so where you quote it.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openQueue } from '../src/index.ts';

const adds = Number(process.argv[2] ?? 2_000);
const rounds = Number(process.argv[3] ?? 3);

async function addsPerSecond(durability: 'full' | 'normal'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'spool-durability-'));
  const queue = await openQueue({ url: `sqlite:${join(dir, 'spool.db')}`, durability });
  try {
    const started = performance.now();
    for (let i = 0; i < adds; i++) await queue.add('job', { i });
    return adds / ((performance.now() - started) / 1000);
  } finally {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${adds} single add() calls per round, ${rounds} rounds`);
const rates: Record<'full' | 'normal', number[]> = { full: [], normal: [] };
for (let round = 0; round < rounds; round++) {
  for (const durability of ['full', 'normal'] as const) rates[durability].push(await addsPerSecond(durability));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const d of ['full', 'normal'] as const) console.log(`${d}: ${rates[d].map((r) => Math.round(r)).join(', ')} adds/s (median ${Math.round(median(rates[d]))})`);
console.log(`normal / full: ${(median(rates.normal) / median(rates.full)).toFixed(1)}×`);
