import { isDeepStrictEqual } from 'node:util';
import type { Job, JobStatus } from '../../src/index.ts';
import type { World } from './world.ts';

/**
 * The model: what a job must be after each step, as a small in-memory table. Where the system may choose
 * (which due job a free slot takes, when a dead worker's job is taken over), the model observes the choice
 * in the database and checks that it was an allowed one; everything else it predicts, and the database must
 * agree exactly.
 */

export interface MJob {
  id: string;
  maxAttempts: number;
  uniqueKey: string | null;
  status: JobStatus;
  attempts: number;
  runAt: number;
  /** The worker holding it while running. */
  holder: string | null;
  leaseUntil: number | null;
  cancelRequested: boolean;
  result: unknown;
  error: string | null;
  /** The last progress reported (JSON round trip), null when none since it was added or retried. */
  progress: unknown;
}

export class Model {
  readonly jobs = new Map<string, MJob>();
  /** Every id ever handed out in this sequence, deleted ones included (commands may still name them). */
  readonly ids: string[] = [];
  readonly deleted = new Set<string>();
  /** Tags of crashed workers: their jobs stay running until their leases run out. */
  readonly zombies = new Set<string>();
  live: { tag: string; concurrency: number } | null = null;

  add(job: Omit<MJob, 'status' | 'attempts' | 'holder' | 'leaseUntil' | 'cancelRequested' | 'result' | 'error' | 'progress'>): void {
    this.jobs.set(job.id, { ...job, status: 'pending', attempts: 0, holder: null, leaseUntil: null, cancelRequested: false, result: null, error: null, progress: null });
    this.ids.push(job.id);
  }

  /** The pending or running job holding `key`, if any. */
  holderOf(key: string): MJob | undefined {
    return [...this.jobs.values()].find((j) => j.uniqueKey === key && (j.status === 'pending' || j.status === 'running'));
  }

  /** Why `jobId` may not start now, or null if it may. */
  mayStart(jobId: string): string | null {
    if (this.deleted.has(jobId)) return 'it was deleted';
    const job = this.jobs.get(jobId);
    // A job handed over by add() starts before add() returns its id: the reconcile checks it exists.
    if (!job) return null;
    if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') return `it is ${job.status}`;
    return null;
  }

  tally(): Record<JobStatus, number> {
    const counts: Record<JobStatus, number> = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const job of this.jobs.values()) counts[job.status]++;
    return counts;
  }
}

/** The JSON round trip of a value: what the database gives back. */
export function stored(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value === undefined ? null : value));
}

/** What the stored error message of a thrown value must be: its text, NUL and lone surrogates as U+FFFD. */
export function expectedError(thrown: unknown): string {
  let text: string;
  if (thrown instanceof Error) text = thrown.message || thrown.name;
  else if (typeof thrown === 'string') text = thrown;
  else {
    try {
      text = `non-Error thrown: ${JSON.stringify(thrown)}`;
    } catch {
      text = `non-Error thrown: ${String(thrown)}`;
    }
  }
  return text.toWellFormed().replaceAll('\u0000', '\ufffd');
}

/** Polls the database until the system has nothing left to do on its own; fails after `timeoutMs` saying what is pending. */
export async function quiesce(world: World, timeoutMs = 15_000): Promise<Job[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await world.main.listJobs({ limit: 1000 });
    const busy = unsettled(jobs, world);
    if (busy === null) return jobs;
    if (Date.now() > deadline) throw new Error(`the system did not settle within ${timeoutMs} ms: ${busy}\n${describe(jobs)}\nproblems: ${world.problems.join('\n')}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** What the system still has to do by itself, or null when it is quiet. */
function unsettled(jobs: Job[], world: World): string | null {
  const now = world.clock.now();
  const live = world.live;
  const byId = new Map(jobs.map((j) => [j.id, j]));
  if (!live) return null;
  // The latest run of each job (a retried job starts again at attempt 1: older runs are history).
  const latest = new Map(world.registry.runs.map((r) => [r.jobId, r]));
  for (const run of latest.values()) {
    if (!run.ended || run.dead || run.worker !== live.tag) continue;
    const job = byId.get(run.jobId);
    if (job?.status === 'running' && job.processingBy === live.tag && job.attempts === run.attempt) return `the outcome of job ${run.jobId} (attempt ${run.attempt}) is not written yet`;
  }
  const running = world.registry.live(live.tag);
  for (const run of running) {
    const job = byId.get(run.jobId);
    if (job?.status !== 'running' || job.processingBy !== live.tag || job.attempts !== run.attempt) {
      return `the handler of job ${run.jobId} (attempt ${run.attempt}) still runs, but the job is ${job ? `${job.status} by ${job.processingBy}` : 'deleted'}: its abort has not arrived`;
    }
  }
  for (const job of jobs) {
    if (job.status !== 'running' || job.processingBy !== live.tag) continue;
    if (!running.some((r) => r.jobId === job.id && r.attempt === job.attempts)) return `job ${job.id} is claimed by ${live.tag} but its handler has not started`;
    if (job.cancelRequested) return `the cancel of job ${job.id} has not reached ${live.tag} yet`;
  }
  if (running.length < live.concurrency) {
    const claimable = jobs.find(
      (j) => (j.status === 'pending' && j.runAt.getTime() <= now) || (j.status === 'running' && j.processingBy !== live.tag && (j.leaseUntil?.getTime() ?? Infinity) < now),
    );
    if (claimable) return `job ${claimable.id} (${claimable.status}) can be claimed and ${live.tag} has a free slot`;
  }
  return null;
}

function describe(jobs: Job[]): string {
  return jobs.map((j) => `  ${j.id}: ${j.status} attempts ${j.attempts}/${j.maxAttempts} by ${j.processingBy} runAt ${j.runAt.getTime()} lease ${j.leaseUntil?.getTime()} cancel ${j.cancelRequested}`).join('\n');
}

/**
 * Checks the database against the model after the system settled, and takes in the choices it made (which
 * jobs it claimed). Throws on the first disagreement, saying which invariant broke.
 */
export async function reconcile(jobs: Job[], world: World, model: Model): Promise<void> {
  const fail = (message: string) => {
    throw new Error(`${message}\nmodel: ${JSON.stringify([...model.jobs.values()])}\ndatabase:\n${describe(jobs)}\nproblems: ${world.problems.join('\n')}`);
  };
  if (world.registry.violations.length > 0) fail(world.registry.violations.join('\n'));
  const now = world.clock.now();
  const seen = new Set<string>();
  for (const job of jobs) {
    if (seen.has(job.id)) fail(`job ${job.id} is listed twice (in two states or two tables at once)`);
    seen.add(job.id);
    if (!model.jobs.has(job.id)) fail(`job ${job.id} (${job.status}) exists in the database but not in the model${model.deleted.has(job.id) ? ': it was deleted' : ''}`);
  }
  for (const id of model.jobs.keys()) if (!seen.has(id)) fail(`job ${id} was lost: the model has it ${model.jobs.get(id)!.status}, the database has no such job`);

  for (const db of jobs) {
    const m = model.jobs.get(db.id)!;
    if (db.attempts > db.maxAttempts) fail(`job ${db.id} has attempts ${db.attempts} > maxAttempts ${db.maxAttempts}`);
    if (db.maxAttempts !== m.maxAttempts) fail(`job ${db.id}: maxAttempts ${db.maxAttempts}, model ${m.maxAttempts}`);
    if (db.status === 'running' && (db.processingBy === null || db.leaseUntil === null)) fail(`job ${db.id} is running without a holder or a lease`);
    switch (m.status) {
      case 'pending':
        if (db.status === 'pending') {
          if (db.attempts !== m.attempts || db.runAt.getTime() !== m.runAt) fail(`job ${db.id}: pending with attempts ${db.attempts}, runAt ${db.runAt.getTime()}; model ${m.attempts}, ${m.runAt}`);
        } else if (db.status === 'running') {
          // Claimed (or handed over at add()) by the live worker, or by the claim a worker had sent just before
          // it died (a statement on the wire still runs): one more attempt, and only once due.
          const byDead = db.processingBy !== null && model.zombies.has(db.processingBy);
          if (!byDead && (!model.live || db.processingBy !== model.live.tag)) fail(`job ${db.id} is running under ${db.processingBy}, which is not the live worker`);
          if (db.attempts !== m.attempts + 1) fail(`job ${db.id} was claimed with attempts ${db.attempts}, expected ${m.attempts + 1}`);
          if (m.runAt > now) fail(`job ${db.id} was claimed before its runAt (${m.runAt} > now ${now})`);
          Object.assign(m, { status: 'running', attempts: db.attempts, holder: db.processingBy });
        } else fail(`job ${db.id} went from pending to ${db.status} on its own`);
        break;
      case 'running':
        if (m.holder !== null && model.zombies.has(m.holder) && !(db.status === 'running' && db.processingBy === m.holder)) {
          // A dead worker's job, taken over once its lease ran out.
          if ((m.leaseUntil ?? Infinity) >= now) fail(`job ${db.id} left its dead worker ${m.holder} before its lease ran out`);
          if (m.cancelRequested) {
            if (db.status !== 'cancelled') fail(`job ${db.id}: its cancel was requested while its worker was dead; it is ${db.status}`);
            Object.assign(m, { status: 'cancelled', holder: null, error: 'cancelled while its worker was gone', cancelRequested: false, attempts: Math.min(m.attempts + 1, m.maxAttempts) });
          } else if (m.attempts >= m.maxAttempts) {
            if (db.status !== 'failed' || db.attempts !== m.maxAttempts) fail(`job ${db.id} lost its last attempt with its worker; it is ${db.status} with attempts ${db.attempts}`);
            Object.assign(m, { status: 'failed', holder: null, error: `its worker stopped during the last of ${m.maxAttempts} attempts (lease expired)` });
          } else {
            if (db.status !== 'running' || db.processingBy !== model.live?.tag || db.attempts !== m.attempts + 1) fail(`job ${db.id} was taken over wrongly: ${db.status} by ${db.processingBy}, attempts ${db.attempts}`);
            Object.assign(m, { holder: db.processingBy, attempts: db.attempts });
          }
        } else if (db.status !== 'running' || db.processingBy !== m.holder || db.attempts !== m.attempts) {
          fail(`job ${db.id}: model running by ${m.holder} attempt ${m.attempts}; database ${db.status} by ${db.processingBy} attempt ${db.attempts}`);
        }
        if (m.status === 'running') m.leaseUntil = db.leaseUntil?.getTime() ?? null;
        if (m.status === 'running' && db.cancelRequested !== m.cancelRequested) fail(`job ${db.id}: cancelRequested ${db.cancelRequested}, model ${m.cancelRequested}`);
        break;
      default:
        if (db.status !== m.status) fail(`job ${db.id} is ${db.status}; the model says ${m.status}`);
        if (db.attempts !== m.attempts) fail(`job ${db.id} (${db.status}) has attempts ${db.attempts}; model ${m.attempts}`);
        if (m.status === 'completed') {
          if (!isDeepStrictEqual(db.result, m.result)) fail(`job ${db.id} completed with result ${JSON.stringify(db.result)}; model ${JSON.stringify(m.result)}`);
          if (!isDeepStrictEqual(db.progress, m.progress)) fail(`job ${db.id} completed with progress ${JSON.stringify(db.progress)}; last reported ${JSON.stringify(m.progress)}`);
        } else if (db.error !== m.error) {
          fail(`job ${db.id} (${db.status}) has error ${JSON.stringify(db.error)}; model ${JSON.stringify(m.error)}`);
        }
    }
  }
  const counts = await world.main.counts();
  const tally = model.tally();
  if (!isDeepStrictEqual(counts, tally)) fail(`counts() ${JSON.stringify(counts)} but the model has ${JSON.stringify(tally)}`);
}
