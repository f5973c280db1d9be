import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { JobNotFoundError, JobStateError, type Queue } from '../../src/index.ts';
import { expectedError, type MJob, type Model, quiesce, reconcile, stored } from './model.ts';
import { BACKOFF, type Ending, LEASE_MS, type World } from './world.ts';

/**
 * The commands of a model-based sequence. Each runs against the real system and says in the model what it
 * must have done; after each, the system is left to settle (quiesce) and the database is checked against the
 * model (reconcile).
 */
export interface Step {
  check(model: Readonly<Model>): boolean;
  run(model: Model, world: World): Promise<void>;
  toString(): string;
}

async function settleAndCheck(model: Model, world: World): Promise<void> {
  await reconcile(await quiesce(world), world, model);
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

/** Runs `call`, which the model says must be refused with `error`. */
async function expectRefused(call: () => Promise<unknown>, error: typeof JobStateError | typeof JobNotFoundError, what: string): Promise<void> {
  try {
    await call();
  } catch (e) {
    if (e instanceof error) return;
    throw new Error(`${what}: expected ${error.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  throw new Error(`${what}: expected ${error.name}, but it succeeded`);
}

interface NewJobSpec {
  delay: number;
  maxAttempts: number;
  priority: number;
  uniqueKey: string | null;
}

const newJobSpec = fc.record({
  delay: fc.constantFrom(0, 0, 0, 1_500, 4_000),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  priority: fc.integer({ min: -1, max: 1 }),
  uniqueKey: fc.constantFrom(null, null, null, 'a', 'b'),
});

/** Adds jobs in one call; `via: 'worker'` adds through the live worker's own queue (the in-process handoff). */
class AddJobs implements Step {
  constructor(
    readonly specs: NewJobSpec[],
    readonly via: 'main' | 'worker',
  ) {}
  check = () => true;
  async run(model: Model, world: World) {
    const queue: Queue = this.via === 'worker' && world.live ? world.live.queue : world.main;
    const now = world.clock.now();
    const entries = this.specs.map((s, i) => ({
      name: 'm',
      data: { i },
      options: { delay: s.delay, maxAttempts: s.maxAttempts, priority: s.priority, backoff: BACKOFF, ...(s.uniqueKey ? { uniqueKey: s.uniqueKey } : {}) },
    }));
    const ids = this.specs.length === 1 ? [await queue.add('m', entries[0]!.data, entries[0]!.options)] : await queue.addBulk(entries);
    this.specs.forEach((spec, i) => {
      const holder = spec.uniqueKey ? model.holderOf(spec.uniqueKey) : undefined;
      if (holder) return expectEqual(ids[i], holder.id, `add() of uniqueKey ${spec.uniqueKey} held by job ${holder.id}`);
      if (model.jobs.has(ids[i]!) || model.deleted.has(ids[i]!)) throw new Error(`add() returned id ${ids[i]}, which an earlier job has`);
      model.add({ id: ids[i]!, maxAttempts: spec.maxAttempts, uniqueKey: spec.uniqueKey, runAt: now + spec.delay });
    });
    await settleAndCheck(model, world);
  }
  toString = () => `Add(${this.via}, ${JSON.stringify(this.specs)})`;
}

/** Everything a handler may end with, the odd ones included. */
const endings: fc.Arbitrary<{ label: string; ending: () => Ending }> = fc.constantFrom(
  { label: 'return object', ending: () => ({ kind: 'return', value: { ok: true, n: [1, 2] } }) },
  { label: 'return undefined', ending: () => ({ kind: 'return', value: undefined }) },
  { label: 'return NUL and lone surrogate', ending: () => ({ kind: 'return', value: { s: 'a\u0000b\ud800' } }) },
  { label: 'throw Error', ending: () => ({ kind: 'throw', thrown: new Error('boom') }) },
  { label: 'throw string', ending: () => ({ kind: 'throw', thrown: 'a string' }) },
  { label: 'throw object', ending: () => ({ kind: 'throw', thrown: { code: 42 } }) },
  {
    label: 'throw circular',
    ending: () => {
      const o: Record<string, unknown> = { a: 1 };
      o.self = o;
      return { kind: 'throw', thrown: o };
    },
  },
  { label: 'throw NUL', ending: () => ({ kind: 'throw', thrown: new Error('bad \u0000 byte') }) },
  { label: 'throw lone surrogate', ending: () => ({ kind: 'throw', thrown: new Error('half \ud83d pair') }) },
);

/** Ends one running handler of the live worker. */
class Settle implements Step {
  constructor(
    readonly pick: number,
    readonly how: { label: string; ending: () => Ending },
  ) {}
  check = (model: Readonly<Model>) => model.live !== null;
  async run(model: Model, world: World) {
    const runs = world.registry.live(world.live!.tag).sort((a, b) => a.jobId.localeCompare(b.jobId));
    if (runs.length === 0) return;
    const run = runs[this.pick % runs.length]!;
    const m = model.jobs.get(run.jobId)!;
    const ending = this.how.ending();
    run.end(ending);
    if (ending.kind === 'return') {
      Object.assign(m, { status: 'completed', holder: null, result: stored(ending.value) });
    } else if (m.attempts < m.maxAttempts) {
      Object.assign(m, { status: 'pending', holder: null, runAt: world.clock.now() + BACKOFF.delay, error: expectedError(ending.thrown) });
    } else {
      Object.assign(m, { status: 'failed', holder: null, error: expectedError(ending.thrown) });
    }
    await settleAndCheck(model, world);
  }
  toString = () => `Settle(${this.pick}, ${this.how.label})`;
}

/** ctx.progress() from one running handler. */
class Progress implements Step {
  constructor(
    readonly pick: number,
    readonly value: unknown,
  ) {}
  check = (model: Readonly<Model>) => model.live !== null;
  async run(model: Model, world: World) {
    const runs = world.registry.live(world.live!.tag).sort((a, b) => a.jobId.localeCompare(b.jobId));
    if (runs.length === 0) return;
    const run = runs[this.pick % runs.length]!;
    run.ctx.progress(this.value);
    const expected = stored(this.value);
    model.jobs.get(run.jobId)!.progress = expected;
    // The next tick writes it (every 10 ms here); until then a crash would lose it, as documented.
    const deadline = Date.now() + 10_000;
    while (!isDeepStrictEqual((await world.main.getJob(run.jobId))?.progress, expected)) {
      if (Date.now() > deadline) throw new Error(`progress ${JSON.stringify(expected)} of job ${run.jobId} was not written by a tick within 10 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
    await settleAndCheck(model, world);
  }
  toString = () => `Progress(${this.pick}, ${JSON.stringify(this.value)})`;
}

/** Picks a job the sequence has seen (deleted ones too): the pick-th id, modulo. */
function pickId(model: Readonly<Model>, pick: number): string | undefined {
  return model.ids.length === 0 ? undefined : model.ids[pick % model.ids.length];
}

/** cancel() through the live worker's own queue (a local signal) or through another queue (the database only). */
class Cancel implements Step {
  constructor(
    readonly pick: number,
    readonly via: 'worker' | 'other',
  ) {}
  check = (model: Readonly<Model>) => model.ids.length > 0;
  async run(model: Model, world: World) {
    const id = pickId(model, this.pick)!;
    const queue = this.via === 'worker' && world.live ? world.live.queue : world.other;
    const m = model.jobs.get(id);
    if (!m) return expectRefused(() => queue.cancel(id), JobNotFoundError, `cancel() of deleted job ${id}`);
    if (m.status !== 'pending' && m.status !== 'running') return expectRefused(() => queue.cancel(id), JobStateError, `cancel() of ${m.status} job ${id}`);
    const job = await queue.cancel(id);
    if (m.status === 'pending') {
      expectEqual(job.status, 'cancelled', `cancel() of pending job ${id}`);
      m.status = 'cancelled'; // its last error, if any, stays
    } else if (m.holder !== null && model.zombies.has(m.holder)) {
      expectEqual([job.status, job.cancelRequested], ['running', true], `cancel() of job ${id} running under a dead worker`);
      m.cancelRequested = true;
    } else {
      expectEqual([job.status, job.cancelRequested], ['running', true], `cancel() of running job ${id}`);
      Object.assign(m, { status: 'cancelled', holder: null, error: 'cancelled by request' });
    }
    await settleAndCheck(model, world);
  }
  toString = () => `Cancel(${this.pick}, ${this.via})`;
}

/**
 * The race of issue #12: cancel() from another queue, then at once (before the worker's next tick carries the
 * request) the handler returns, throws, or the worker stops. A retry or release must not undo the cancel.
 */
class CancelRace implements Step {
  constructor(
    readonly pick: number,
    readonly then: { label: string; ending: () => Ending } | 'stop',
  ) {}
  check = (model: Readonly<Model>) => model.live !== null;
  async run(model: Model, world: World) {
    const runs = world.registry.live(world.live!.tag).sort((a, b) => a.jobId.localeCompare(b.jobId));
    if (runs.length === 0) return;
    const run = runs[this.pick % runs.length]!;
    const m = model.jobs.get(run.jobId)!;
    await world.other.cancel(run.jobId);
    // What the job may end as: the tick may still win the race and abort the handler first.
    let allowed: { status: string; error: string | null; attempts: number; result?: unknown }[];
    const cancelled = { status: 'cancelled', error: 'cancelled by request', attempts: m.attempts };
    if (this.then === 'stop') {
      await world.stopWorker();
      model.live = null;
      allowed = [cancelled];
      for (const other of model.jobs.values()) {
        if (other !== m && other.status === 'running' && other.holder === run.worker) Object.assign(other, { status: 'pending', holder: null, attempts: other.attempts - 1 });
      }
    } else {
      const ending = this.then.ending();
      run.end(ending);
      if (ending.kind === 'return') allowed = [{ status: 'completed', error: null, attempts: m.attempts, result: stored(ending.value) }, cancelled];
      else if (m.attempts < m.maxAttempts) allowed = [{ ...cancelled, error: expectedError(ending.thrown) }, cancelled];
      else allowed = [{ status: 'failed', error: expectedError(ending.thrown), attempts: m.attempts }, cancelled];
    }
    const jobs = await quiesce(world);
    const db = jobs.find((j) => j.id === run.jobId)!;
    const match = allowed.find((a) => a.status === db.status && (a.status === 'completed' ? isDeepStrictEqual(a.result, db.result) : a.error === db.error));
    if (!match) throw new Error(`cancel then ${this.then === 'stop' ? 'stop' : this.then.label}: job ${db.id} ended ${db.status} (${JSON.stringify(db.error)}); allowed ${JSON.stringify(allowed)}`);
    Object.assign(m, { status: match.status, holder: null, attempts: match.attempts, cancelRequested: false, ...(match.status === 'completed' ? { result: match.result } : { error: match.error }) });
    await reconcile(jobs, world, model);
  }
  toString = () => `CancelRace(${this.pick}, ${this.then === 'stop' ? 'stop' : this.then.label})`;
}

class Retry implements Step {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.ids.length > 0;
  async run(model: Model, world: World) {
    const id = pickId(model, this.pick)!;
    const m = model.jobs.get(id);
    if (!m) return expectRefused(() => world.main.retry(id), JobNotFoundError, `retry() of deleted job ${id}`);
    const heldBy = m.uniqueKey ? model.holderOf(m.uniqueKey) : undefined;
    if ((m.status !== 'failed' && m.status !== 'cancelled') || heldBy) {
      return expectRefused(() => world.main.retry(id), JobStateError, `retry() of ${m.status} job ${id}${heldBy ? ` (key held by ${heldBy.id})` : ''}`);
    }
    const job = await world.main.retry(id);
    expectEqual([job.status, job.attempts], ['pending', 0], `retry() of job ${id}`);
    Object.assign(m, { status: 'pending', attempts: 0, runAt: world.clock.now(), error: null, result: null, progress: null, holder: null, cancelRequested: false });
    await settleAndCheck(model, world);
  }
  toString = () => `Retry(${this.pick})`;
}

class Delete implements Step {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.ids.length > 0;
  async run(model: Model, world: World) {
    const id = pickId(model, this.pick)!;
    if (!model.jobs.has(id)) return expectRefused(() => world.main.delete(id), JobNotFoundError, `delete() of deleted job ${id}`);
    await world.main.delete(id);
    model.jobs.delete(id);
    model.deleted.add(id);
    await settleAndCheck(model, world);
  }
  toString = () => `Delete(${this.pick})`;
}

/** Moves the injected clock: delays and retry backoffs come due. Always less than a lease. */
class Advance implements Step {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, world: World) {
    world.clock.advance(this.ms);
    await settleAndCheck(model, world);
  }
  toString = () => `Advance(${this.ms})`;
}

/** Moves the clock past every lease: a dead worker's jobs may be taken over. Only with no live worker (whose own leases would lapse too). */
class Expire implements Step {
  check = (model: Readonly<Model>) => model.live === null;
  async run(model: Model, world: World) {
    world.clock.advance(LEASE_MS + 1);
    await settleAndCheck(model, world);
  }
  toString = () => 'Expire()';
}

class StartWorker implements Step {
  constructor(readonly concurrency: number) {}
  check = (model: Readonly<Model>) => model.live === null;
  async run(model: Model, world: World) {
    const live = await world.startWorker(this.concurrency);
    model.live = { tag: live.tag, concurrency: this.concurrency };
    await settleAndCheck(model, world);
  }
  toString = () => `StartWorker(${this.concurrency})`;
}

/** worker.stop(): handlers honour the shutdown signal, their jobs are released without spending the attempt. */
class StopWorker implements Step {
  check = (model: Readonly<Model>) => model.live !== null;
  async run(model: Model, world: World) {
    const tag = model.live!.tag;
    await world.stopWorker();
    model.live = null;
    for (const m of model.jobs.values()) {
      if (m.status === 'running' && m.holder === tag) Object.assign(m, { status: 'pending', holder: null, attempts: m.attempts - 1 });
    }
    await settleAndCheck(model, world);
  }
  toString = () => 'StopWorker()';
}

/** The worker's process dies: its jobs stay running under it until their leases run out. */
class CrashWorker implements Step {
  check = (model: Readonly<Model>) => model.live !== null;
  async run(model: Model, world: World) {
    const tag = model.live!.tag;
    await world.crashWorker();
    model.live = null;
    model.zombies.add(tag);
    await settleAndCheck(model, world);
  }
  toString = () => 'CrashWorker()';
}

/** Command arbitraries, weighted by repetition. */
export function stepArbitraries(): fc.Arbitrary<Step>[] {
  const pick = fc.nat({ max: 50 });
  const add = fc.tuple(fc.array(newJobSpec, { minLength: 1, maxLength: 3 }), fc.constantFrom('main', 'worker') as fc.Arbitrary<'main' | 'worker'>).map(([specs, via]) => new AddJobs(specs, via));
  const settle = fc.tuple(pick, endings).map(([p, how]) => new Settle(p, how));
  const progressValue = fc.constantFrom<unknown>({ step: 1 }, 'half \u0000 way', { s: '\udc00' }, [1, 2, 3], null);
  return [
    add,
    add,
    add,
    settle,
    settle,
    settle,
    settle,
    fc.tuple(pick, progressValue).map(([p, v]) => new Progress(p, v)),
    fc.tuple(pick, fc.constantFrom('worker', 'other') as fc.Arbitrary<'worker' | 'other'>).map(([p, via]) => new Cancel(p, via)),
    fc.tuple(pick, fc.constantFrom('worker', 'other') as fc.Arbitrary<'worker' | 'other'>).map(([p, via]) => new Cancel(p, via)),
    fc.tuple(pick, fc.oneof(endings, fc.constant('stop' as const))).map(([p, then]) => new CancelRace(p, then)),
    fc.tuple(pick, fc.oneof(endings, fc.constant('stop' as const))).map(([p, then]) => new CancelRace(p, then)),
    pick.map((p) => new Retry(p)),
    pick.map((p) => new Delete(p)),
    fc.constantFrom(500, 1_000, 2_000, 5_000).map((ms) => new Advance(ms)),
    fc.constantFrom(500, 1_000, 2_000, 5_000).map((ms) => new Advance(ms)),
    fc.constant(new Expire()),
    fc.integer({ min: 1, max: 3 }).map((c) => new StartWorker(c)),
    fc.integer({ min: 1, max: 3 }).map((c) => new StartWorker(c)),
    fc.constant(new StopWorker()),
    fc.constant(new CrashWorker()),
  ];
}

/**
 * The end of a sequence: every handler returns, a worker runs, the clock passes every delay, backoff and
 * lease, until nothing is pending or running; then every job must be where the model says it ends.
 */
export async function drain(model: Model, world: World): Promise<void> {
  if (!model.live) {
    const live = await world.startWorker(3);
    model.live = { tag: live.tag, concurrency: 3 };
  }
  world.registry.auto = true;
  for (const run of world.registry.live(model.live.tag)) run.end({ kind: 'return', value: 'auto' });
  for (const m of model.jobs.values()) {
    if (m.status === 'running' && m.holder === model.live.tag) Object.assign(m, { status: 'completed', holder: null, result: 'auto' });
  }
  await quiesce(world);
  world.clock.advance(LEASE_MS + 60_000);
  const jobs = await quiesce(world);
  // What the model says each unfinished job becomes, now that every handler returns at once.
  for (const m of model.jobs.values()) {
    if (m.status === 'pending') Object.assign(m, { status: 'completed', attempts: m.attempts + 1, result: 'auto' });
    else if (m.status === 'running' && m.holder !== null && model.zombies.has(m.holder)) {
      if (m.cancelRequested) Object.assign(m, { status: 'cancelled', holder: null, cancelRequested: false, attempts: Math.min(m.attempts + 1, m.maxAttempts), error: 'cancelled while its worker was gone' });
      else if (m.attempts >= m.maxAttempts) Object.assign(m, { status: 'failed', holder: null, error: `its worker stopped during the last of ${m.maxAttempts} attempts (lease expired)` });
      else Object.assign(m, { status: 'completed', holder: null, attempts: m.attempts + 1, result: 'auto' });
    }
  }
  await reconcile(jobs, world, model);
  const left = jobs.filter((j) => j.status === 'pending' || j.status === 'running');
  if (left.length > 0) throw new Error(`after the drain jobs are still ${left.map((j) => `${j.id} ${j.status}`).join(', ')}`);
}

export type { MJob };
