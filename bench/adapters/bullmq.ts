import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Adapter, BenchHandler, Session, Traffic } from './adapter.ts';
import { deletePrefix, REDIS_URL, RedisCommandStats } from '../lib/redis-stats.ts';

const QUEUE = 'bench';

// Copies one finished job's hash to ids seed:<first>..seed:<last> and adds them to the completed set:
// W7's million finished jobs, generated inside Redis in chunks rather than through the API.
const SEED_LUA = `
local src = redis.call('HGETALL', KEYS[1])
local first, last, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local score = redis.call('ZSCORE', KEYS[2], ARGV[4])
for i = first, last do
  local id = 'seed' .. i
  redis.call('HSET', prefix .. id, unpack(src))
  redis.call('ZADD', KEYS[2], score, id)
end
return last - first + 1`;

/** BullMQ on the local Redis (no persistence: --save "" --appendonly no), through ioredis. */
export const bullmq: Adapter = {
  id: 'bullmq',
  label: 'BullMQ (Redis)',
  store: 'redis',
  workloads: ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8'],
  variants: [{ id: 'default', settings: 'Queue/Worker defaults (completed jobs kept); concurrency as the workload sets it (its one speed setting)' }],
  counting: 'INFO commandstats deltas (server-wide; commands inside its Lua scripts included); "statements" = write commands per COMMAND INFO flags, round trips = all commands',
  notes: 'progress: job.updateProgress() (one write per call, its API); listing: one queue with the names as job names, queue.getJobs(["waiting"]) in pages of 100 filtered by name (BullMQ has no listing by name)',
  async open() {
    const prefix = `bench-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const connection = { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379), maxRetriesPerRequest: null };
    const queue = new Queue(QUEUE, { connection, prefix });
    await queue.waitUntilReady();
    const admin = new Redis(REDIS_URL);
    const stats = new RedisCommandStats(admin);
    const start = await stats.snapshot();
    let worker: Worker | undefined;

    const session: Session = {
      async add(name, data) {
        await queue.add(name, data);
      },
      async addBulk(jobs) {
        await queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data })));
      },
      async startWorker(names, handler: BenchHandler, concurrency) {
        const wanted = new Set(names);
        worker = new Worker(
          QUEUE,
          async (job: Job) => {
            if (!wanted.has(job.name)) throw new Error(`no handler for ${job.name}`);
            await handler({ id: String(job.id), name: job.name, data: job.data }, (v) => job.updateProgress(v as object));
          },
          { connection, prefix, concurrency },
        );
        await worker.waitUntilReady();
      },
      async stopWorker() {
        await worker?.close();
        worker = undefined;
      },
      async completed() {
        return (await queue.getJobCounts('completed')).completed ?? 0;
      },
      async unfinished() {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        return Object.values(c).reduce((a, b) => a + b, 0);
      },
      async list(name, limit) {
        const found: Job[] = [];
        for (let start = 0; found.length < limit; start += 100) {
          const page = await queue.getJobs(['waiting'], start, start + 99);
          if (page.length === 0) break;
          for (const job of page) if (job?.name === name && found.length < limit) found.push(job as Job);
        }
        return found.length;
      },
      async seedFinished(name, n) {
        const done = new Promise<string>((resolve) => {
          const w = new Worker(QUEUE, async () => null, { connection, prefix });
          w.on('completed', (job) => void w.close().then(() => resolve(String(job.id))));
        });
        await queue.add(name, { i: -1 });
        const id = await done;
        const base = `${prefix}:${QUEUE}:`;
        for (let first = 1; first <= n; first += 50_000) {
          const last = Math.min(n, first + 49_999);
          await admin.eval(SEED_LUA, 2, base + id, `${base}completed`, first, last, base, id);
        }
      },
      async traffic(): Promise<Traffic> {
        const d = await stats.delta(start, await stats.snapshot());
        return { statements: d.writes, roundTrips: d.commands };
      },
      async close() {
        await worker?.close();
        await queue.close();
        await deletePrefix(admin, prefix);
        admin.disconnect();
      },
    };
    return session;
  },
};
