/**
 * The scenario Spool was born from: a deep scan runs 11 experts, each reporting progress 4 times
 * (44 progress calls per job). Ten scans run at once. A write-per-update queue sends 44 progress writes
 * per job plus its claim and completion; Spool coalesces progress in memory and writes it with the
 * worker's tick, one statement for all running jobs.
 *
 *   npm run example                       # embedded SQLite file under .spool-example/
 *   SPOOL_DATABASE_URL=postgres://… npm run example
 */
import { rmSync } from 'node:fs';
import { openQueue, type Job } from '../../src/index.ts';

const SCANS = 10;
const EXPERTS = 11;
const REPORTS_PER_EXPERT = 4;
const PROGRESS_CALLS = EXPERTS * REPORTS_PER_EXPERT;
// A write-per-update design: 1 insert + 1 claim + 44 progress updates + 1 completion.
const WRITE_PER_UPDATE_STATEMENTS = 1 + 1 + PROGRESS_CALLS + 1;

interface ScanData {
  repo: string;
}
interface ScanProgress {
  expert: number;
  of: number;
  step: number;
}

const url = process.env.SPOOL_DATABASE_URL ?? 'sqlite:./.spool-example/deep-scan.db';
if (url.startsWith('sqlite:./.spool-example/')) rmSync('.spool-example', { recursive: true, force: true });

const queue = await openQueue({ url });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deepScan(job: Job<ScanData>, ctx: { progress(value: ScanProgress): void; signal: AbortSignal }) {
  let findings = 0;
  for (let expert = 1; expert <= EXPERTS; expert++) {
    for (let step = 1; step <= REPORTS_PER_EXPERT; step++) {
      await sleep(10 + Math.random() * 40); // the expert at work
      ctx.progress({ expert, of: EXPERTS, step });
      if (ctx.signal.aborted) return { findings, aborted: true };
    }
    if (Math.random() < 0.4) findings++;
  }
  return { repo: job.data.repo, findings };
}

// graceMs: on Ctrl-C, running scans get 3 s to finish; the rest go back to pending without losing an attempt.
const worker = queue.worker({ 'deep-scan': deepScan }, { concurrency: SCANS, progressFlushMs: 1_000, graceMs: 3_000 });

// Ctrl-C (SIGINT) or SIGTERM: stop claiming, let running scans finish or release them, close the database.
// Without this, a killed process leaves its jobs 'running' until their lease (30 s) runs out.
let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n\n${signal}: stopping; running scans get up to 3 s to finish, the rest go back to pending\n`);
  await worker.stop();
  const stats = worker.stats();
  const counts = await queue.counts({ name: 'deep-scan' });
  console.log(`stopped: ${stats.completed} scans completed, ${stats.released} released unspent; now ${counts.running} running, ${counts.pending} pending`);
  await queue.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);

// Live view: every progress call reaches in-process listeners at once, with no database in between.
// Redrawn at most every 100 ms, and only on a terminal.
const latest = new Map<string, ScanProgress>();
let lastDraw = 0;
queue.on('progress', ({ job }) => {
  latest.set(job.id, job.progress as ScanProgress);
  if (!process.stdout.isTTY || Date.now() - lastDraw < 100) return;
  lastDraw = Date.now();
  const bars = [...latest.values()].map((p) => `${String(p.expert).padStart(2)}/${p.of}`);
  process.stdout.write(`\r  experts done per scan: ${bars.join('  ')}   `);
});
let completed = 0;
const allCompleted = new Promise<void>((resolve) =>
  queue.on('completed', () => {
    if (++completed === SCANS) resolve();
  }),
);

const before = queue.stats();
const ticksAtStart = new Map<string, number>();
const ticksLived = new Map<string, number>();
queue.on('started', ({ job }) => ticksAtStart.set(job.id, worker.stats().ticks));
queue.on('completed', ({ job }) => ticksLived.set(job.id, worker.stats().ticks - (ticksAtStart.get(job.id) ?? 0)));

console.log(`Spool deep-scan example on ${url.split('?')[0]}`);
console.log(`${SCANS} scans at once, ${EXPERTS} experts each, ${PROGRESS_CALLS} progress calls per scan\n`);

const ids = await queue.addBulk(Array.from({ length: SCANS }, (_, i) => ({ name: 'deep-scan', data: { repo: `acme/service-${i + 1}` } })));
await worker.start();
await allCompleted;
if (stopping) await new Promise(() => {}); // shutdown() exits the process
process.off('SIGINT', shutdown);
process.off('SIGTERM', shutdown);
await worker.stop();
process.stdout.write('\n\n');

const after = queue.stats();
const statements = after.statements - before.statements;
const byMethod = Object.entries(after.byMethod)
  .map(([m, n]) => [m, n - (before.byMethod[m] ?? 0)] as const)
  .filter(([, n]) => n > 0);
const workStatements = byMethod.reduce((sum, [, n]) => sum + n, 0);
const perJob = workStatements / SCANS;

const jobs = await queue.listJobs({ name: 'deep-scan', limit: SCANS });
console.log('  job  repo                 progress calls  ticks lived through  stored progress   findings');
for (const job of jobs.sort((a, b) => Number(a.id) - Number(b.id))) {
  const p = job.progress as ScanProgress;
  console.log(
    `  ${job.id.padStart(3)}  ${(job.data as ScanData).repo.padEnd(20)} ${String(PROGRESS_CALLS).padStart(14)}  ${String(ticksLived.get(job.id) ?? 0).padStart(19)}  expert ${p.expert}/${p.of} step ${p.step}   ${(job.result as { findings: number }).findings}`,
  );
}
console.log(`\n  statements by kind (all ${SCANS} jobs): ${byMethod.map(([m, n]) => `${m} ${n}`).join(', ')}`);
console.log(`  Spool:            ${workStatements} statements for ${SCANS} jobs = ${perJob.toFixed(2)} per job (add, claim, ticks and completion, shared)`);
console.log(`  write-per-update: ${WRITE_PER_UPDATE_STATEMENTS} statements per job (${PROGRESS_CALLS} of them progress writes) = ${WRITE_PER_UPDATE_STATEMENTS * SCANS} for ${SCANS} jobs`);
console.log(`  → ${(WRITE_PER_UPDATE_STATEMENTS / perJob).toFixed(0)}× fewer statements; the listing above took 1 query`);
if (statements !== workStatements) throw new Error('every statement is accounted for by kind');
if (ids.length !== SCANS) throw new Error('expected every scan to be added');
await queue.close();
