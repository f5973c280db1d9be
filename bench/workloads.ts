import { performance } from 'node:perf_hooks';
import type { Adapter, BenchHandler, Session, Traffic, Variant } from './adapters/adapter.ts';
import { SpoolSession } from './adapters/spool-session.ts';

/** Sizes of one benchmark run: the (full) or small ones for smoke tests (quick). */
export interface Sizes {
  singleAdds: number; // W1
  bulkAdds: number; // W2
  bulkBatch: number;
  drainJobs: number; // W3, W7
  flowChildren: number; // W3F
  concurrencies: number[];
  latencyJobs: number; // W4
  latencyGapMs: number;
  deepScanJobs: number; // W5
  deepScanStepMs: number;
  listAmong: number; // W6
  listNames: number;
  listLimit: number;
  finishedRows: number; // W7
  concurrentAdds: number; // W8
  producers: number;
  /** A drain that has not finished by then stops and reports what it did (marked capped). */
  drainTimeoutMs: number;
  /**
   * How long W4 waits for its jobs to start: long enough for a system that takes one job per poll
   * (pg-boss at its defaults starts ≈ 5 jobs/s at concurrency 10, so 500 jobs take ≈ 100 s).
   */
  latencyTimeoutMs: number;
}

export const FULL: Sizes = {
  singleAdds: 5_000,
  bulkAdds: 50_000,
  bulkBatch: 1_000,
  drainJobs: 20_000,
  flowChildren: 10_000,
  concurrencies: [10, 50],
  latencyJobs: 500,
  latencyGapMs: 10,
  deepScanJobs: 10,
  deepScanStepMs: 25,
  listAmong: 10_000,
  listNames: 10,
  listLimit: 100,
  finishedRows: 1_000_000,
  concurrentAdds: 20_000,
  producers: 64,
  drainTimeoutMs: 60_000,
  latencyTimeoutMs: 300_000,
};

export const QUICK: Sizes = {
  ...FULL,
  singleAdds: 200,
  bulkAdds: 2_000,
  drainJobs: 1_000,
  flowChildren: 1_000,
  latencyJobs: 50,
  listAmong: 2_000,
  finishedRows: 20_000,
  concurrentAdds: 2_000,
  drainTimeoutMs: 20_000,
  latencyTimeoutMs: 60_000,
};

/** One measured number of one run. */
export interface Sample {
  /** e.g. 'c10', 'p95', 'ms' */
  case: string;
  metric: string;
  unit: string;
  value: number;
  /** True when a drain hit drainTimeoutMs: the value is jobs completed per second until then. */
  capped?: boolean;
}

/** A workload: one run of it on a fresh session (or several, one per case). */
export interface Workload {
  id: string;
  title: string;
  /** The cases of one run, e.g. concurrency 10 and 50; each gets its own fresh session. */
  cases(sizes: Sizes): string[];
  run(ctx: { adapter: Adapter; variant: Variant; sizes: Sizes; caseId: string }): Promise<Sample[]>;
}

const NAME = 'bench-noop';
/** The parent of W3F's flow. */
const FLOW_PARENT = 'bench-flow-parent';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withSession<T>(adapter: Adapter, variant: Variant, count: boolean, fn: (s: Session) => Promise<T>): Promise<T> {
  const session = await adapter.open(variant, { count });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

async function addInBatches(s: Session, n: number, batch: number, name: (i: number) => string, key?: (i: number) => string): Promise<void> {
  for (let i = 0; i < n; i += batch) {
    const jobs = [];
    for (let j = i; j < Math.min(n, i + batch); j++) jobs.push({ name: name(j), data: { i: j }, ...(key ? { concurrencyKey: key(j) } : {}) });
    await s.addBulk(jobs);
  }
}

/**
 * W3L's global limit: above the concurrency AND above what a worker holds at once (its slots plus a prefetch
 * of at most 400 no-op jobs), since a concurrency limit counts claimed jobs, prefetched ones included. So the
 * limit never binds: W3L ÷ W3 is what the limit-aware claim costs, not what a limit holds back.
 */
const W3L_LIMIT = 1_000;
/** W3K: 100 keys, each limited to 10 at once (1,000 in all, again above what one worker holds). */
const W3K_KEYS = 100;
const W3K_PER_KEY = 10;

/**
 * When the drain's clock stops: once `ran()` says every handler call the run waits for happened, the store is
 * asked every 2 ms whether `name` has jobs left (Session.unfinished, a cheap query); the clock stops at the
 * start of the look-up that saw none. Until then it checks every 20 ms, every 2 ms once `close()`. Undefined:
 * the deadline passed first.
 */
async function clockStop(s: Session, name: string, deadline: number, ran: () => boolean, close: () => boolean): Promise<number | undefined> {
  while (performance.now() < deadline) {
    if (ran()) {
      const asked = performance.now();
      if ((await s.unfinished(name)) === 0) return asked;
      await sleep(2);
    } else await sleep(close() ? 2 : 20);
  }
  return undefined;
}

/**
 * Starts the worker on `n` queued no-op jobs and stops the clock when the store shows none of them left
 * waiting or running: handler calls are counted in memory, and once all n ran the store is asked (a cheap
 * query, see Session.unfinished) every 2 ms. The clock stops at the start of the look-up that saw none left.
 * Then, clock stopped, the completed jobs are counted: all n must be there (else the run fails).
 */
async function drain(
  s: Session,
  n: number,
  concurrency: number,
  timeoutMs: number,
  alreadyCompleted = 0,
): Promise<{ seconds: number; done: number; capped: boolean; trafficAtStop: Traffic | null }> {
  let ran = 0;
  const handler: BenchHandler = () => {
    ran++;
  };
  const started = performance.now();
  const deadline = started + timeoutMs;
  await s.startWorker([NAME], handler, concurrency);
  const stoppedAt = await clockStop(s, NAME, deadline, () => ran >= n, () => ran >= n * 0.98);
  const capped = stoppedAt === undefined;
  const seconds = ((stoppedAt ?? performance.now()) - started) / 1000;
  // What the system sent until the clock stopped (unfinished() bypasses the counted channels: direct SQL
  // on another connection for Spool, reads only for Redis, whose writes are what is counted).
  const trafficAtStop = await s.traffic();
  // A capped run counts what was completed when the clock stopped, before stopping lets more finish.
  const cappedDone = capped ? (await s.completed(NAME, n)) - alreadyCompleted : 0;
  await s.stopWorker();
  const done = capped ? cappedDone : (await s.completed(NAME, n)) - alreadyCompleted;
  if (!capped && done !== n) throw new Error(`drain: the store shows ${done} of ${n} jobs completed once none was left waiting or running`);
  return { seconds, done, capped, trafficAtStop };
}

const w1: Workload = {
  id: 'W1',
  title: 'Single add: jobs added one at a time, each awaited',
  cases: () => ['single'],
  run: ({ adapter, variant, sizes }) =>
    withSession(adapter, variant, false, async (s) => {
      await s.add(NAME, { i: -1 }); // warm-up: connections, prepared statements, queue creation
      const t0 = performance.now();
      for (let i = 0; i < sizes.singleAdds; i++) await s.add(NAME, { i });
      const seconds = (performance.now() - t0) / 1000;
      return [{ case: 'single', metric: 'throughput', unit: 'jobs/s', value: sizes.singleAdds / seconds }];
    }),
};

const w2: Workload = {
  id: 'W2',
  title: 'Bulk add: batches of 1,000',
  cases: () => ['bulk'],
  run: ({ adapter, variant, sizes }) =>
    withSession(adapter, variant, false, async (s) => {
      await s.add(NAME, { i: -1 });
      const t0 = performance.now();
      await addInBatches(s, sizes.bulkAdds, sizes.bulkBatch, () => NAME);
      const seconds = (performance.now() - t0) / 1000;
      return [{ case: 'bulk', metric: 'throughput', unit: 'jobs/s', value: sizes.bulkAdds / seconds }];
    }),
};

const DRAIN_TITLES = {
  W3: 'Drain: no-op jobs, clock stops when the store shows all completed',
  W3L: `Drain under a global limit: W3 with setLimits({ concurrency: ${W3L_LIMIT} }), above the concurrency (the limit-aware claim's cost)`,
  W3K: `Drain under a per-key limit: W3 with jobs spread over ${W3K_KEYS} concurrencyKeys and setLimits({ perKeyConcurrency: ${W3K_PER_KEY} })`,
  W7: 'Drain with a big table: W3 again with finished jobs already in the table',
} as const;

function drainWorkload(id: keyof typeof DRAIN_TITLES): Workload {
  return {
    id,
    title: DRAIN_TITLES[id],
    cases: (sizes) => sizes.concurrencies.map((c) => `c${c}`),
    run: ({ adapter, variant, sizes, caseId }) =>
      withSession(adapter, variant, false, async (s) => {
        const concurrency = Number(caseId.slice(1));
        let alreadyDone = 0;
        if (id === 'W7') {
          await s.seedFinished(NAME, sizes.finishedRows);
          alreadyDone = await s.completed(NAME, 0);
        }
        if (id === 'W3L' || id === 'W3K') {
          if (!s.setLimits) throw new Error(`${id}: ${adapter.id} has no limits`);
          await s.setLimits(NAME, id === 'W3L' ? { concurrency: W3L_LIMIT } : { perKeyConcurrency: W3K_PER_KEY });
        }
        await addInBatches(s, sizes.drainJobs, sizes.bulkBatch, () => NAME, id === 'W3K' ? (i) => `key-${i % W3K_KEYS}` : undefined);
        const before = await s.traffic();
        const r = await drain(s, sizes.drainJobs, concurrency, sizes.drainTimeoutMs, alreadyDone);
        const after = r.trafficAtStop;
        const samples: Sample[] = [{ case: caseId, metric: 'throughput', unit: 'jobs/s', value: r.done / r.seconds, capped: r.capped }];
        // Where the session counts anyway (Spool's own counter, Redis commandstats): what the drain sent per job.
        if (before && after && r.done > 0) {
          samples.push({ case: caseId, metric: 'statements per job', unit: 'statements', value: (after.statements - before.statements) / r.done });
        }
        return samples;
      }),
  };
}

/**
 * W3 with flows: one flow of `flowChildren` no-op children (added by one addFlow, not timed, as W3's adds are
 * not), drained by one worker serving the children and the parent; the clock stops when the store shows no
 * child and no parent left. Throughput counts the children and the parent. Its ratio to W3 (same case) is the
 * cost of flows: the finish statements moving the parent on, and the parent's claim at the end.
 */
const w3f: Workload = {
  id: 'W3F',
  title: 'Drain of a flow: W3 with all the jobs children of one parent',
  cases: (sizes) => sizes.concurrencies.map((c) => `c${c}`),
  run: ({ adapter, variant, sizes, caseId }) =>
    withSession(adapter, variant, false, async (s) => {
      if (!s.addFlow) throw new Error(`${adapter.id} has no flows`);
      const concurrency = Number(caseId.slice(1));
      const n = sizes.flowChildren;
      await s.addFlow(FLOW_PARENT, Array.from({ length: n }, (_, i) => ({ name: NAME, data: { i } })));
      const before = await s.traffic();
      let ran = 0;
      let parentRan = false;
      const started = performance.now();
      const deadline = started + sizes.drainTimeoutMs;
      await s.startWorker([NAME, FLOW_PARENT], (job) => {
        if (job.name === FLOW_PARENT) parentRan = true;
        else ran++;
      }, concurrency);
      const stoppedAt = await clockStop(s, FLOW_PARENT, deadline, () => parentRan, () => ran >= n * 0.98);
      const capped = stoppedAt === undefined;
      const seconds = ((stoppedAt ?? performance.now()) - started) / 1000;
      const after = await s.traffic();
      await s.stopWorker();
      const done = ran + (parentRan ? 1 : 0);
      if (!capped && ran !== n) throw new Error(`W3F: the parent finished after ${ran} of ${n} children ran`);
      const samples: Sample[] = [{ case: caseId, metric: 'throughput', unit: 'jobs/s', value: done / seconds, capped }];
      if (before && after && done > 0) {
        samples.push({ case: caseId, metric: 'statements per job', unit: 'statements', value: (after.statements - before.statements) / done });
      }
      return samples;
    }),
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const w4: Workload = {
  id: 'W4',
  title: 'Latency: enqueue → handler start, jobs added 10 ms apart to an idle worker (concurrency 10)',
  cases: () => ['latency'],
  run: ({ adapter, variant, sizes }) =>
    withSession(adapter, variant, false, async (s) => {
      const latencies: number[] = [];
      await s.startWorker([NAME], (job) => {
        if (job.data.sentAt !== undefined && job.data.i >= 0) latencies.push(performance.now() - job.data.sentAt);
      }, 10);
      await s.add(NAME, { i: -1 }); // warm-up job, not measured
      await sleep(500);
      const t0 = performance.now();
      for (let i = 0; i < sizes.latencyJobs; i++) {
        await s.add(NAME, { i, sentAt: performance.now() });
        const next = t0 + (i + 1) * sizes.latencyGapMs;
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
      }
      const deadline = performance.now() + sizes.latencyTimeoutMs;
      while (latencies.length < sizes.latencyJobs && performance.now() < deadline) await sleep(5);
      await s.stopWorker();
      if (latencies.length < sizes.latencyJobs) throw new Error(`W4: only ${latencies.length} of ${sizes.latencyJobs} jobs started in time`);
      const sorted = [...latencies].sort((a, b) => a - b);
      return (['p50', 'p95', 'p99', 'max'] as const).map((p) => ({
        case: p,
        metric: 'latency',
        unit: 'ms',
        value: p === 'max' ? sorted[sorted.length - 1]! : percentile(sorted, Number(p.slice(1))),
      }));
    }),
};

const EXPERTS = 11;
const CALLS_PER_EXPERT = 4;

const w5: Workload = {
  id: 'W5',
  title: 'Deep scan: 10 jobs × 11 experts × 4 progress calls, statements per job (Redis: write commands)',
  cases: () => ['deep-scan'],
  run: ({ adapter, variant, sizes }) =>
    withSession(adapter, variant, true, async (s) => {
      const name = 'deep-scan';
      const before = await s.traffic();
      const wireBefore = s instanceof SpoolSession ? s.wireTraffic() : null;
      for (let i = 0; i < sizes.deepScanJobs; i++) await s.add(name, { i });
      let finished = 0;
      await s.startWorker([name], async (_job, progress) => {
        for (let expert = 1; expert <= EXPERTS; expert++) {
          for (let call = 1; call <= CALLS_PER_EXPERT; call++) {
            await sleep(sizes.deepScanStepMs);
            await progress({ expert, of: EXPERTS, step: call });
          }
        }
        finished++;
      }, sizes.deepScanJobs);
      const deadline = performance.now() + sizes.drainTimeoutMs;
      while (finished < sizes.deepScanJobs) {
        if (performance.now() > deadline) throw new Error('W5: the deep-scan jobs did not finish in time');
        await sleep(10);
      }
      // Then ask the store until it shows them completed; these look-ups are the benchmark's, not the
      // system's, so they are taken out of the counts below (one statement and one round trip each).
      let polls = 0;
      for (;;) {
        polls++;
        if ((await s.completed(name, sizes.deepScanJobs)) >= sizes.deepScanJobs) break;
        if (performance.now() > deadline) throw new Error('W5: the deep-scan jobs did not complete in time');
        await sleep(2);
      }
      const after = await s.traffic();
      const wireAfter = s instanceof SpoolSession ? s.wireTraffic() : null;
      await s.stopWorker();
      if (!before || !after) throw new Error(`W5: ${adapter.id} does not count statements`);
      const n = sizes.deepScanJobs;
      const own = adapter.store === 'redis' ? 0 : polls; // Redis: getJobCounts only reads, and writes are what is counted
      const samples: Sample[] = [
        { case: 'deep-scan', metric: 'statements per job', unit: 'statements', value: (after.statements - before.statements - own) / n },
      ];
      if (adapter.store !== 'redis' && before.roundTrips !== null && after.roundTrips !== null) {
        samples.push({ case: 'deep-scan', metric: 'round trips per job', unit: 'round trips', value: (after.roundTrips - before.roundTrips - own) / n });
      }
      if (wireBefore && wireAfter) {
        samples.push({ case: 'deep-scan', metric: 'wire statements per job', unit: 'statements', value: (wireAfter.statements - wireBefore.statements - own) / n });
      }
      return samples;
    }),
};

const w6: Workload = {
  id: 'W6',
  title: 'Listing: the first 100 jobs of one name among many',
  cases: () => ['list'],
  run: ({ adapter, variant, sizes }) =>
    withSession(adapter, variant, false, async (s) => {
      await addInBatches(s, sizes.listAmong, sizes.bulkBatch, (i) => `list-${i % sizes.listNames}`);
      const target = 'list-3';
      const got = await s.list(target, sizes.listLimit); // warm-up
      if (got !== sizes.listLimit) throw new Error(`W6: listed ${got} jobs, expected ${sizes.listLimit}`);
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        await s.list(target, sizes.listLimit);
        times.push(performance.now() - t0);
      }
      const before = await s.traffic();
      await s.list(target, sizes.listLimit);
      const after = await s.traffic();
      times.sort((a, b) => a - b);
      const samples: Sample[] = [{ case: 'list', metric: 'time', unit: 'ms', value: (times[4]! + times[5]!) / 2 }];
      const counted = !before && s.listTraffic ? await s.listTraffic(target, sizes.listLimit) : null;
      if (counted) {
        samples.push({ case: 'list', metric: 'statements', unit: 'statements', value: counted.statements });
        if (counted.roundTrips !== null) samples.push({ case: 'list', metric: 'round trips', unit: 'round trips', value: counted.roundTrips });
      } else if (before && after) {
        samples.push({ case: 'list', metric: 'statements', unit: 'statements', value: after.statements - before.statements });
        if (before.roundTrips !== null && after.roundTrips !== null) {
          samples.push({ case: 'list', metric: 'round trips', unit: 'round trips', value: after.roundTrips - before.roundTrips });
        }
      } else {
        // PostgreSQL peers: the listing is one SQL query this adapter sends on one connection.
        samples.push({ case: 'list', metric: 'statements', unit: 'statements', value: 1 });
        samples.push({ case: 'list', metric: 'round trips', unit: 'round trips', value: 1 });
      }
      return samples;
    }),
};

const w8: Workload = {
  id: 'W8',
  title: 'Many producers: 64 concurrent producers in one process, each awaiting its own add()',
  cases: () => ['producers'],
  run: ({ adapter, variant, sizes }) =>
    withSession(adapter, variant, false, async (s) => {
      await s.add(NAME, { i: -1 }); // warm-up: connections, prepared statements, queue creation
      let next = 0;
      // What an HTTP app that enqueues per request does: every producer waits for its own job to be stored.
      const producer = async () => {
        for (let i = next++; i < sizes.concurrentAdds; i = next++) await s.add(NAME, { i });
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: sizes.producers }, producer));
      const seconds = (performance.now() - t0) / 1000;
      return [{ case: 'producers', metric: 'throughput', unit: 'jobs/s', value: sizes.concurrentAdds / seconds }];
    }),
};

export const WORKLOADS: readonly Workload[] = [w1, w2, drainWorkload('W3'), drainWorkload('W3L'), drainWorkload('W3K'), w3f, w4, w5, w6, drainWorkload('W7'), w8];
