import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Clock, type Job, type OpenQueueOptions, type Queue, type ScheduleInfo, ValidationError } from '../../src/index.ts';
import { planFire } from '../../src/schedules/fire-plan.ts';
import { createSpoolServer } from '../../src/server/index.ts';
import { type Fixture, killAll, spawnFixture } from '../support/children.ts';
import { spool, spoolJson } from '../support/cli.ts';
import { caller } from '../support/server.ts';
import { ManualClock, waitFor } from '../support/wait.ts';

/** A fresh database per test: `open` opens another queue (another connection, as another process would) on it. */
export type ScheduleFactory = () => Promise<{
  open: (options?: Pick<OpenQueueOptions, 'clock' | 'retention'>) => Promise<Queue>;
  childEnv: Record<string, string>;
  cleanup: () => Promise<void>;
}>;

/** Every job of `name`, oldest first (the table is small in these tests). */
async function jobsOf(queue: Queue, name: string): Promise<Job[]> {
  return (await queue.listJobs({ name, limit: 1000 })).reverse();
}

/** The fire times of a schedule's jobs, from their unique keys `schedule:<key>:<ms>`. */
function fireTimes(jobs: Job[], key: string): number[] {
  return jobs.filter((j) => j.uniqueKey?.startsWith(`schedule:${key}:`)).map((j) => Number(j.uniqueKey!.split(':').pop()));
}

/**
 * Started on time: the median within 50 ms of its time, and none later than 250 ms. The worker polls once a
 * minute, so only its due-time wake-up can start a job within the test at all; the 250 ms allows for a loaded
 * machine (load average 17 on 2 cores while this was written), where a timer alone can fire 100 ms late.
 */
function assertPunctual(lateness: number[], what: string): void {
  const sorted = [...lateness].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  assert.ok(sorted[0]! >= 0, `no job started before ${what}: ${lateness.join(', ')} ms`);
  assert.ok(median < 50, `median start ${median} ms after ${what} (${lateness.join(', ')} ms)`);
  assert.ok(sorted[sorted.length - 1]! < 250, `every job started within 250 ms of ${what} (${lateness.join(', ')} ms)`);
}

const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString());

/** Schedules, punctual delays and retention: what both stores must show. */
export function scheduleBehaviour(kind: string, factory: ScheduleFactory): void {
  const it = (name: string, fn: (ctx: Awaited<ReturnType<ScheduleFactory>>) => Promise<void>, timeout = 30_000) =>
    test(name, { timeout }, async () => {
      const ctx = await factory();
      try {
        await fn(ctx);
      } finally {
        await ctx.cleanup();
      }
    });

  describe(`Schedules, punctual delays and retention: ${kind}`, () => {
    it('bad schedules are refused with a ValidationError naming the fix, and nothing is written', async ({ open }) => {
      const queue = await open();
      const before = queue.stats().statements;
      const cases: [unknown, unknown, RegExp][] = [
        ['', { every: 1000 }, /key must not be empty/],
        ['k', { cron: '61 * * * *' }, /spec\.cron "61 \* \* \* \*" is not a valid cron pattern/],
        ['k', { cron: '* * * * *', tz: 'Mars/Olympus' }, /spec\.tz must be an IANA timezone/],
        ['k', { every: 0 }, /every must be at least 1 ms/],
        ['k', { every: -5 }, /every must be at least 1 ms/],
        ['k', { every: 1.5 }, /whole number/],
        ['k', { cron: '* * * * *', every: 5 }, /spec/],
      ];
      for (const [key, spec, message] of cases) {
        await assert.rejects(queue.schedule(key as string, spec as { every: number }, 'report'), (e: unknown) => e instanceof ValidationError && message.test(e.message));
      }
      await assert.rejects(queue.schedule('k', { every: 1000 }, 'report', {}, { missed: 'some' as 'all' }), /missed must be 'skip', 'latest' or 'all'/);
      await assert.rejects(queue.schedule('k', { every: 1000 }, 'bad name!'), ValidationError);
      assert.equal(queue.stats().statements, before, 'no statement sent');
      assert.deepEqual(await queue.listSchedules(), []);
      await queue.close();
    });

    it('declaring a schedule is idempotent: three processes at boot make one row; a changed spec updates it', async ({ open }) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1, 12, 0, 0));
      const queues = await Promise.all([open({ clock }), open({ clock }), open({ clock })]);
      await Promise.all(queues.map((q) => q.schedule('nightly', { cron: '0 3 * * *', tz: 'Europe/Berlin' }, 'report', { kind: 'daily' }, { missed: 'latest' })));
      let [s] = await queues[0]!.listSchedules();
      assert.equal((await queues[1]!.listSchedules()).length, 1);
      assert.deepEqual(
        { key: s!.key, cron: s!.cron, tz: s!.tz, name: s!.name, data: s!.data, missed: s!.missed, paused: s!.paused, lastRunAt: s!.lastRunAt },
        { key: 'nightly', cron: '0 3 * * *', tz: 'Europe/Berlin', name: 'report', data: { kind: 'daily' }, missed: 'latest', paused: false, lastRunAt: null },
      );
      assert.equal(s!.nextRunAt!.toISOString(), '2030-01-02T02:00:00.000Z', '03:00 in Berlin (CET) is 02:00 UTC');
      // A later boot with the same spec (the clock moved on) changes nothing.
      clock.advance(3_600_000);
      await queues[2]!.schedule('nightly', { cron: '0 3 * * *', tz: 'Europe/Berlin' }, 'report', { kind: 'daily' }, { missed: 'latest' });
      assert.deepEqual(await queues[0]!.listSchedules(), [s]);
      // A new spec and data replace the old ones.
      await queues[1]!.schedule('nightly', { every: 60_000 }, 'report', { kind: 'minutely' }, { missed: 'all', priority: 5 });
      [s] = await queues[0]!.listSchedules();
      assert.deepEqual({ every: s!.every, cron: s!.cron, data: s!.data, missed: s!.missed, options: s!.options }, {
        every: 60_000, cron: undefined, data: { kind: 'minutely' }, missed: 'all', options: { priority: 5 },
      });
      assert.equal(s!.nextRunAt!.getTime(), clock.now() + 60_000);
      await Promise.all(queues.map((q) => q.close()));
    });

    it('list, pause, resume, trigger and remove', async ({ open }) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1, 12, 0, 0));
      const queue = await open({ clock });
      await queue.schedule('a', { every: 60_000 }, 'report', { n: 1 });
      await queue.schedule('b', { cron: '*/5 * * * *' }, 'report', { n: 2 });
      assert.deepEqual((await queue.listSchedules()).map((s) => [s.key, s.tz ?? null]), [['a', null], ['b', 'UTC']]);
      assert.equal((await queue.pauseSchedule('a')).paused, true);
      assert.equal((await queue.listSchedules())[0]!.paused, true);
      // A paused schedule does not fire, even long past its time.
      clock.advance(10 * 60_000);
      const worker = queue.worker({ report: async () => null }, { pollMs: 50 });
      await worker.start();
      await waitFor(async () => fireTimes(await jobsOf(queue, 'report'), 'b').length === 1, 'b to fire once (on time)');
      assert.deepEqual(fireTimes(await jobsOf(queue, 'report'), 'a'), []);
      // Resumed, it fires from now on: the fires that fell during the pause are not run.
      const resumed = await queue.resumeSchedule('a');
      assert.equal(resumed.paused, false);
      assert.equal(resumed.nextRunAt!.getTime(), Date.UTC(2030, 0, 1, 12, 11, 0));
      const id = await queue.triggerSchedule('a');
      const triggered = (await queue.getJob(id))!;
      assert.deepEqual({ name: triggered.name, data: triggered.data }, { name: 'report', data: { n: 1 } });
      await queue.unschedule('a');
      assert.deepEqual((await queue.listSchedules()).map((s) => s.key), ['b']);
      await assert.rejects(queue.unschedule('a'), { code: 'SCHEDULE_NOT_FOUND' });
      await assert.rejects(queue.triggerSchedule('nope'), { code: 'SCHEDULE_NOT_FOUND' });
      await assert.rejects(queue.pauseSchedule('nope'), { code: 'SCHEDULE_NOT_FOUND' });
      await worker.stop();
      await queue.close();
    });

    it('missed fires while no process ran: skip runs none, latest the newest once, all each of them', async ({ open }) => {
      const t0 = Date.UTC(2030, 0, 1, 12, 0, 0);
      const clock = new ManualClock(t0);
      const queue = await open({ clock });
      for (const missed of ['skip', 'latest', 'all'] as const) await queue.schedule(missed, { every: 120_000 }, 'tick', {}, { missed });
      // Down for 21.5 minutes: the fires at +2, +4 … +20 min are all more than a minute old.
      clock.advance(21 * 60_000 + 30_000);
      const worker = queue.worker({ tick: async () => null }, { pollMs: 50 });
      await worker.start();
      await waitFor(async () => (await queue.listSchedules()).every((s) => s.nextRunAt!.getTime() > clock.now()), 'every schedule to be fired');
      const jobs = await jobsOf(queue, 'tick');
      const minutes = (key: string) => fireTimes(jobs, key).map((t) => (t - t0) / 60_000);
      assert.deepEqual(minutes('skip'), []);
      assert.deepEqual(minutes('latest'), [20]);
      assert.deepEqual(minutes('all'), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
      // A second worker starting later fires none of them again.
      const again = queue.worker({ tick: async () => null }, { pollMs: 50 });
      await again.start();
      await queue.schedule('all', { every: 120_000 }, 'tick', {}, { missed: 'all' });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(fireTimes(await jobsOf(queue, 'tick'), 'all').length, 10);
      await Promise.all([worker.stop(), again.stop()]);
      await queue.close();
    });

    it(`'all' catches up at most ${100} missed fires, the newest`, async ({ open }) => {
      const t0 = Date.UTC(2030, 0, 1, 12, 0, 0);
      const clock = new ManualClock(t0);
      const queue = await open({ clock });
      await queue.schedule('s', { every: 1_000 }, 'tick', {}, { missed: 'all' });
      clock.advance(1_000_000); // 1,000 fires missed, the newest 60 on time
      const worker = queue.worker({ tick: async () => null }, { pollMs: 50 });
      await worker.start();
      await waitFor(async () => (await queue.listSchedules())[0]!.nextRunAt!.getTime() > clock.now(), 'the schedule to be fired');
      const fires = fireTimes(await jobsOf(queue, 'tick'), 's').map((t) => (t - t0) / 1000).sort((a, b) => a - b);
      // On time (younger than a minute): 941 … 1000, all run; missed: the newest 100 of 1 … 940.
      assert.deepEqual(fires, Array.from({ length: 160 }, (_, i) => 841 + i));
      await worker.stop();
      await queue.close();
    });

    it('daylight saving: each wall time fires once; a skipped one at the next valid minute, a repeated one at its first occurrence', async ({ open }) => {
      // Declared before each change, fired by a worker started after it ('all' runs every fire in between).
      const cases: { tz: string; cron: string; from: string; days: number; want: string[] }[] = [
        { tz: 'Europe/Berlin', cron: '30 2 * * *', from: '2026-03-28T00:00:00Z', days: 3,
          want: ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'] }, // 02:30 CET, (no 02:30) 03:00 CEST, 02:30 CEST
        { tz: 'Europe/Berlin', cron: '*/30 2 * * *', from: '2026-03-29T00:00:00Z', days: 0.9,
          want: ['2026-03-29T01:00:00.000Z'] }, // 02:00 and 02:30 do not exist: once, at 03:00 CEST
        { tz: 'Europe/Berlin', cron: '30 2 * * *', from: '2026-10-24T12:00:00Z', days: 2,
          want: ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'] }, // 02:30 happens twice (CEST, CET): the first
        { tz: 'Europe/Berlin', cron: '*/30 2 * * *', from: '2026-10-24T12:00:00Z', days: 1,
          want: ['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z'] }, // 02:00 and 02:30 once each, not twice
        { tz: 'America/New_York', cron: '0 2 * * *', from: '2026-03-07T12:00:00Z', days: 2,
          want: ['2026-03-08T07:00:00.000Z', '2026-03-09T06:00:00.000Z'] }, // 02:00 missing: 03:00 EDT
        { tz: 'America/New_York', cron: '30 1 * * *', from: '2026-10-31T12:00:00Z', days: 2,
          want: ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'] }, // 01:30 EDT, not again at 01:30 EST
        { tz: 'Australia/Sydney', cron: '15 2 * * *', from: '2026-10-03T12:00:00Z', days: 2,
          want: ['2026-10-03T16:00:00.000Z', '2026-10-04T15:15:00.000Z'] }, // 02:15 missing: 03:00 AEDT
        { tz: 'Australia/Lord_Howe', cron: '15 2 * * *', from: '2026-10-03T00:00:00Z', days: 2,
          want: ['2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z'] }, // a 30-minute shift: 02:15 missing, at 02:30
        { tz: 'Australia/Lord_Howe', cron: '45 1 * * *', from: '2026-04-04T00:00:00Z', days: 2,
          want: ['2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z'] }, // 01:45 twice (+11, +10:30): the first
      ];
      const clock = new ManualClock(0);
      const queue = await open({ clock });
      for (const [i, c] of cases.entries()) {
        clock.time = Date.parse(c.from);
        await queue.schedule(`dst${i}`, { cron: c.cron, tz: c.tz }, `dst${i}`, {}, { missed: 'all' });
        clock.advance(c.days * 86_400_000);
        const worker = queue.worker({ [`dst${i}`]: async () => null }, { pollMs: 50 });
        await worker.start();
        await waitFor(async () => (await queue.listSchedules())[i]!.nextRunAt!.getTime() > clock.now(), `schedule ${i} fired`);
        await worker.stop();
        assert.deepEqual(iso(fireTimes(await jobsOf(queue, `dst${i}`), `dst${i}`).sort()), c.want, `${c.cron} in ${c.tz} from ${c.from}`);
      }
      await queue.close();
    });

    it('three processes with clocks skewed by ±30 s declaring the same schedules add exactly one job per fire time, none missed', async ({ open }) => {
      const skewed = (ms: number): Clock => ({ now: () => Date.now() + ms });
      const queues = await Promise.all([open({ clock: skewed(-30_000) }), open({ clock: skewed(0) }), open({ clock: skewed(30_000) })]);
      const workers = [];
      for (const q of queues) {
        // Each process declares at boot, as an application would.
        await q.schedule('fast', { every: 200 }, 'tick', { s: 'fast' }, { missed: 'all' });
        await q.schedule('slow', { every: 500 }, 'tick', { s: 'slow' }, { missed: 'latest' });
        const w = q.worker({ tick: async () => null }, { pollMs: 100 });
        await w.start();
        workers.push(w);
      }
      await new Promise((r) => setTimeout(r, 2_000));
      // Stop the fast-clock process: the others go on from its watermark, 30 s behind it.
      await workers[2]!.stop();
      await new Promise((r) => setTimeout(r, 500));
      await Promise.all(workers.map((w) => w.stop()));
      const jobs = await jobsOf(queues[0]!, 'tick');
      for (const [key, every] of [['fast', 200], ['slow', 500]] as const) {
        const fires = fireTimes(jobs, key).sort((a, b) => a - b);
        assert.equal(new Set(fires).size, fires.length, `${key}: one job per fire time`);
        assert.ok(fires.length >= 30_000 / every, `${key}: the fast clock fired 30 s ahead (${fires.length} fires)`);
        for (let i = 1; i < fires.length; i++) assert.equal(fires[i]! - fires[i - 1]!, every, `${key}: no fire missed between ${fires[i - 1]} and ${fires[i]}`);
      }
      await Promise.all(queues.map((q) => q.close()));
    });

    it('three child processes with clocks skewed by ±30 s, SIGKILLed and restarted at random, add exactly one job per fire time', async ({ open, childEnv }) => {
      const queue = await open();
      const children: Fixture[] = [];
      const boot = async (skew: number) => {
        const child = spawnFixture('schedule-worker.ts', { ...childEnv, SKEW_MS: String(skew) });
        children.push(child);
        await child.waitForLine((l) => l === 'ready', 'the worker to start');
        return child;
      };
      // A fixed "random" sequence (so a failure replays): which process dies, and how long the rest run.
      const kills = [2, 0, 2, 1, 2];
      const pauses = [500, 300, 700, 400, 300];
      try {
        const skews = [-30_000, 0, 30_000];
        const live = [await boot(skews[0]!), await boot(skews[1]!), await boot(skews[2]!)];
        for (const [i, victim] of kills.entries()) {
          await new Promise((r) => setTimeout(r, pauses[i]));
          live[victim]!.child.kill('SIGKILL');
          await live[victim]!.exited;
          live[victim] = await boot(skews[victim]!); // restarted with the same skewed clock
        }
        await new Promise((r) => setTimeout(r, 300));
        await Promise.all(live.map((c) => c.stop()));
      } finally {
        await killAll(children);
      }
      // The +30 s process fires first (30 s of fires at once); while it is down nobody fires (the others are
      // behind its watermark), and on restart it catches up on time. Every fire time once, none skipped.
      const fires = fireTimes(await jobsOf(queue, 'tick'), 'beat').sort((a, b) => a - b);
      assert.equal(new Set(fires).size, fires.length, 'one job per fire time');
      assert.ok(fires.length >= 300, `${fires.length} fires (30 s ahead at one per 100 ms)`);
      for (let i = 1; i < fires.length; i++) assert.equal(fires[i]! - fires[i - 1]!, 100, `no fire missed after ${fires[i - 1]}`);
      await queue.close();
    });

    it('a schedule fires on time on an idle worker (its job starts within 50 ms of the fire time)', async ({ open }) => {
      const queue = await open();
      const started: Job[] = [];
      // A poll of a minute: only the due-time wake-ups can start these jobs within the test.
      const worker = queue.worker({ beat: async (job) => void started.push(job) }, { pollMs: 60_000 });
      await worker.start();
      await queue.schedule('beat', { every: 300 }, 'beat', {});
      await waitFor(() => started.length >= 3, 'three fires');
      await worker.stop();
      const jobs = await jobsOf(queue, 'beat');
      const lateness = jobs.slice(0, 3).map((j) => j.startedAt!.getTime() - j.runAt.getTime());
      assertPunctual(lateness, 'the fire time');
      await queue.close();
    });

    it('a delayed job added by another process starts within 50 ms of its time on an idle worker', async ({ open }) => {
      const here = await open();
      const there = await open();
      // A job delayed before the worker starts, and jobs delayed while it is idle (pollMs is the default 1 s).
      const early = await there.add('punctual', { n: 0 }, { delay: 400 });
      const worker = here.worker({ punctual: async () => null }, { pollMs: 60_000 });
      await worker.start();
      await waitFor(() => worker.stats().idle, 'an idle worker');
      const ids = [early];
      for (let n = 1; n <= 3; n++) {
        ids.push(await there.add('punctual', { n }, { delay: 250 }));
        await new Promise((r) => setTimeout(r, 100));
      }
      // One batch with two delays: the feed (PostgreSQL) names only its earliest runAt.
      ids.push(...(await there.addBulk([{ name: 'punctual', options: { delay: 200 } }, { name: 'punctual', options: { delay: 350 } }])));
      await waitFor(async () => (await here.counts({ name: 'punctual' })).completed === ids.length, 'every job done');
      await worker.stop();
      const lateness = await Promise.all(ids.map(async (id) => {
        const job = (await here.getJob(id))!;
        return job.startedAt!.getTime() - job.runAt.getTime();
      }));
      assertPunctual(lateness, 'its runAt');
      await Promise.all([here.close(), there.close()]);
    });

    it('retention keeps the table bounded over a run of 100,000 jobs (keep 100 completed, 10 failed)', async ({ open }) => {
      const queue = await open({ retention: { completed: { keep: 100 }, failed: { keep: 10 }, intervalMs: 50 } });
      const worker = queue.worker(
        { ok: async () => null, bad: async () => { throw new Error('no'); } },
        { concurrency: 20, pollMs: 50 },
      );
      await worker.start();
      let peak = 0;
      for (let round = 0; round < 10; round++) {
        await queue.addBulk(Array.from({ length: 10_000 }, (_, i) => ({ name: i % 500 === 0 ? 'bad' : 'ok', options: { maxAttempts: 1 } })));
        await waitFor(async () => {
          const c = await queue.counts();
          peak = Math.max(peak, c.completed + c.failed);
          return c.pending + c.running === 0;
        }, `round ${round} drained`);
      }
      await waitFor(async () => {
        const c = await queue.counts();
        return c.completed === 100 && c.failed === 10;
      }, 'retention to settle at 100 completed and 10 failed');
      await worker.stop();
      // Bounded by one round's jobs plus what is kept, not by the 100,000 run.
      assert.ok(peak <= 10_000 + 110, `peak finished jobs in the table: ${peak}`);
      assert.equal((await queue.listJobs({ status: 'completed', limit: 1000 })).length, 100);
      await queue.close();
    });

    it('retention by age deletes finished jobs older than olderThanMs, by the injected clock', async ({ open }) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const queue = await open({ clock, retention: { completed: { olderThanMs: 3_600_000 }, intervalMs: 50 } });
      const worker = queue.worker({ ok: async () => null }, { pollMs: 50 });
      await worker.start();
      await queue.addBulk(Array.from({ length: 30 }, () => ({ name: 'ok' })));
      await waitFor(async () => (await queue.counts()).completed === 30, 'the old jobs done');
      clock.advance(2 * 3_600_000);
      await queue.addBulk(Array.from({ length: 5 }, () => ({ name: 'ok' })));
      await waitFor(async () => (await queue.counts()).completed === 5, 'only the five recent jobs left');
      await worker.stop();
      await queue.close();
    });

    it('store: two processes firing the same watermark at once: the compare-and-set lets one add the jobs', async ({ open }) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const [a, b] = [await open({ clock }), await open({ clock })];
      await a.schedule('s', { every: 1_000 }, 'tick', {}, { missed: 'all' });
      clock.advance(5_500);
      const [row] = await a.store.schedules({ key: 's' });
      const plan = planFire(row!, clock.now())!;
      assert.equal(plan.fire.jobs.length, 5);
      const results = await Promise.all([a.store.schedulesFire({ fires: [plan.fire], now: clock.now() }), b.store.schedulesFire({ fires: [plan.fire], now: clock.now() })]);
      assert.deepEqual(results.map((r) => r.fired.length).sort(), [0, 1]);
      assert.deepEqual(results.map((r) => r.jobIds.length).sort(), [0, 5]);
      assert.equal((await a.counts({ name: 'tick' })).pending, 5);
      // A spec changed meanwhile bumps the revision: a fire planned from the old one no longer applies.
      clock.advance(2_000);
      const [next] = await a.store.schedules({ key: 's' });
      const stale = planFire(next!, clock.now())!;
      await b.schedule('s', { every: 700 }, 'tick', {}, { missed: 'all' });
      assert.deepEqual((await a.store.schedulesFire({ fires: [stale.fire], now: clock.now() })).fired, []);
      await Promise.all([a.close(), b.close()]);
    });

    it('store: nextDueAt is the earliest future runAt of pending jobs (and next schedule fire) of the names; pruneKeep keeps the newest', async ({ open }) => {
      const clock = new ManualClock(Date.UTC(2030, 0, 1));
      const queue = await open({ clock });
      const now = clock.now();
      await queue.addBulk([
        { name: 'a', options: { delay: 5_000 } }, { name: 'a', options: { delay: 2_000 } }, { name: 'b', options: { delay: 1_000 } }, { name: 'a' },
      ]);
      await queue.schedule('c-every-minute', { every: 60_000 }, 'c');
      assert.deepEqual(await queue.store.nextDueAt({ names: ['a'], now }), { job: now + 2_000, schedule: null });
      assert.deepEqual(await queue.store.nextDueAt({ names: ['a', 'b'], now }), { job: now + 1_000, schedule: null });
      assert.deepEqual(await queue.store.nextDueAt({ names: ['c'], now }), { job: null, schedule: now + 60_000 });
      const before = queue.stats().byMethod.nextDueAt ?? 0;
      await queue.store.nextDueAt({ names: ['a', 'b', 'c'], now });
      assert.equal((queue.stats().byMethod.nextDueAt ?? 0) - before, 1, 'one statement whatever the names');
      const worker = queue.worker({ ok: async () => null }, { pollMs: 20 });
      await worker.start();
      await queue.addBulk(Array.from({ length: 25 }, () => ({ name: 'ok' })));
      await waitFor(async () => (await queue.counts({ name: 'ok' })).completed === 25, 'the jobs done');
      await worker.stop();
      const newest = (await queue.listJobs({ name: 'ok', status: 'completed', limit: 10 })).map((j) => j.id);
      assert.equal(await queue.store.pruneKeep({ status: 'completed', keep: 10, limit: 7 }), 7);
      assert.equal(await queue.store.pruneKeep({ status: 'completed', keep: 10, limit: 100 }), 8);
      assert.equal(await queue.store.pruneKeep({ status: 'completed', keep: 10, limit: 100 }), 0);
      assert.deepEqual((await queue.listJobs({ status: 'completed', limit: 100 })).map((j) => j.id), newest);
      assert.equal((await queue.counts()).completed, 10, 'the counters follow');
      await queue.close();
    });

    it('CLI: spool schedules lists, pauses, resumes, triggers and removes, with exit 1 for an unknown key', async ({ open, childEnv }) => {
      const queue = await open();
      const target = { url: childEnv.SPOOL_TEST_URL!, ...(childEnv.SPOOL_TEST_SCHEMA ? { schema: childEnv.SPOOL_TEST_SCHEMA } : {}) };
      await queue.schedule('nightly', { cron: '0 3 * * *', tz: 'Europe/Berlin' }, 'report', { kind: 'daily' }, { missed: 'latest' });
      await queue.schedule('beat', { every: 60_000 }, 'tick', {});
      const table = await spool(target, ['schedules']);
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trim().split('\n');
      assert.match(lines[0]!, /^KEY\s+WHEN\s+JOB\s+NEXT\s+LAST\s+MISSED\s+DATA$/);
      assert.match(lines[1]!, /^beat\s+every 60s\s+tick\s+in /);
      assert.match(lines[2]!, /^nightly\s+0 3 \* \* \* Europe\/Berlin\s+report\s+in .*latest\s+\{"kind":"daily"\}$/);
      const { schedules } = await spoolJson<{ schedules: ScheduleInfo[] }>(target, ['schedules', 'ls']);
      assert.deepEqual(schedules.map((x) => x.key), ['beat', 'nightly']);
      assert.equal((await spoolJson<ScheduleInfo>(target, ['schedules', 'pause', 'nightly'])).paused, true);
      assert.equal((await queue.listSchedules())[1]!.paused, true);
      assert.match((await spool(target, ['schedules', 'resume', 'nightly'])).stdout, /schedule nightly is running; next fire 20\d\d-/);
      const { jobId } = await spoolJson<{ jobId: string }>(target, ['schedules', 'trigger', 'nightly']);
      assert.deepEqual((await queue.getJob(jobId))!.data, { kind: 'daily' });
      assert.equal((await spool(target, ['schedules', 'rm', 'beat'])).code, 0);
      const missing = await spool(target, ['schedules', 'rm', 'beat']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /schedule "beat" does not exist/);
      assert.equal((await spool(target, ['schedules', 'pause'])).code, 2, 'a missing key is bad usage');
      assert.deepEqual((await queue.listSchedules()).map((x) => x.key), ['nightly']);
      await queue.close();
    });

    it('HTTP: /api/features says schedules; /api/schedules lists, pauses, resumes, triggers and removes', async ({ open }) => {
      const queue = await open();
      const server = createSpoolServer(queue, { dashboardDir: false });
      const call = caller(server);
      try {
        assert.equal(((await call('GET', '/api/features')).json as unknown as { features: { schedules: boolean } }).features.schedules, true);
        await queue.schedule('nightly', { cron: '0 3 * * *', tz: 'Europe/Berlin' }, 'report', { k: 1 });
        const listed = await call('GET', '/api/schedules');
        assert.equal(listed.status, 200);
        const [s] = (listed.json as unknown as { schedules: Record<string, unknown>[] }).schedules;
        assert.deepEqual([s!.key, s!.cron, s!.tz, s!.name, s!.paused], ['nightly', '0 3 * * *', 'Europe/Berlin', 'report', false]);
        assert.equal(typeof s!.nextRunAt, 'string');
        assert.equal((await call('POST', '/api/schedules/nightly/pause')).status, 200);
        assert.equal((await queue.listSchedules())[0]!.paused, true);
        assert.equal((await call('POST', '/api/schedules/nightly/resume')).status, 200);
        assert.equal((await queue.listSchedules())[0]!.paused, false);
        const triggered = await call('POST', '/api/schedules/nightly/trigger');
        assert.equal(triggered.status, 200);
        assert.equal((await queue.getJob(String(triggered.json.triggered)))!.name, 'report');
        assert.equal((await call('DELETE', '/api/schedules/nightly')).status, 200);
        assert.equal((await call('DELETE', '/api/schedules/nightly')).status, 404);
        assert.equal((await call('POST', '/api/schedules/nope/trigger')).status, 404);
        assert.deepEqual(await queue.listSchedules(), []);
      } finally {
        await server.close();
        await queue.close();
      }
    });
  });
}

