import type { Handlers, Job, JobContext, Queue, Worker } from '../index.ts';

/**
 * `spool serve --demo`: the deep scan Spool was born from, so a newcomer sees the dashboard move within
 * seconds. Each scan runs eleven experts, reporting progress after each; about one attempt in eight fails
 * (an expert times out) and is retried after 2 s, and one scan in forty fails every attempt and lands in the
 * dead letters. New scans trickle in every 1.5 s, reports after each scan, so there is always something running.
 */
export const DEMO_EXPERTS = [
  'dependencies', 'licenses', 'secrets', 'sql-injection', 'xss', 'auth', 'crypto', 'config', 'containers', 'ci', 'supply-chain',
] as const;

const REPOS = ['acme/api', 'acme/web', 'acme/billing', 'globex/search', 'globex/ml', 'initech/tps', 'umbrella/lab', 'hooli/nucleus'];

interface ScanData {
  repo: string;
  branch: string;
  doomed?: boolean;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

/** The demo's handlers: 'deep-scan' (eleven experts with progress) and 'send-report' (quick). */
export function demoHandlers(queue: Queue, options: { stepMs?: number } = {}): Handlers {
  const stepMs = options.stepMs ?? 350;
  return {
    'deep-scan': async (job: Job, ctx: JobContext) => {
      const data = job.data as ScanData;
      const findings: Record<string, number> = {};
      for (let i = 0; i < DEMO_EXPERTS.length; i++) {
        const expert = DEMO_EXPERTS[i]!;
        await sleep(stepMs * (0.5 + Math.random()), ctx.signal);
        if (ctx.signal.aborted) throw new Error(`stopped during the ${expert} expert`);
        if (data.doomed && i === 6) throw new Error(`expert ${expert}: repository ${data.repo} could not be cloned (403 from the git host)`);
        if (Math.random() < 0.012) throw new Error(`expert ${expert} timed out after 30 s waiting for the model`);
        findings[expert] = Math.random() < 0.3 ? 1 + Math.floor(Math.random() * 4) : 0;
        ctx.progress({ expert: i + 1, of: DEMO_EXPERTS.length, current: expert, percent: Math.round(((i + 1) / DEMO_EXPERTS.length) * 100) });
      }
      const total = Object.values(findings).reduce((a, b) => a + b, 0);
      await queue.add('send-report', { repo: data.repo, findings: total }, { maxAttempts: 2 });
      return { repo: data.repo, findings: total, byExpert: findings };
    },
    'send-report': async (job: Job, ctx: JobContext) => {
      await sleep(200, ctx.signal);
      const data = job.data as { repo: string; findings: number };
      return { sentTo: `security@${data.repo.split('/')[0]}.example`, findings: data.findings };
    },
  };
}

/** Adds one scan (one in forty is doomed to fail every attempt). */
export function addDemoScan(queue: Queue): Promise<string> {
  const doomed = Math.random() < 0.025;
  const data: ScanData = { repo: pick(REPOS), branch: pick(['main', 'main', 'develop', 'release/2.4']), ...(doomed ? { doomed } : {}) };
  return queue.add('deep-scan', data, { maxAttempts: 3, backoff: { type: 'fixed', delay: 2_000 } });
}

/** Seeds a few scans (one already doomed, so the dead letters are not empty for long), runs the worker, and trickles more in. */
export async function startDemo(queue: Queue, options: { concurrency?: number; everyMs?: number } = {}): Promise<{ worker: Worker; stop(): Promise<void> }> {
  await queue.addBulk([
    ...REPOS.map((repo) => ({ name: 'deep-scan', data: { repo, branch: 'main' }, options: { maxAttempts: 3, backoff: { type: 'fixed' as const, delay: 2_000 } } })),
    { name: 'deep-scan', data: { repo: 'umbrella/vault', branch: 'main', doomed: true }, options: { maxAttempts: 2, backoff: { type: 'fixed' as const, delay: 1_000 } } },
  ]);
  const worker = queue.worker(demoHandlers(queue), { concurrency: options.concurrency ?? 8, progressFlushMs: 500 });
  await worker.start();
  const trickle = setInterval(() => void addDemoScan(queue).catch(() => {}), options.everyMs ?? 1_500);
  trickle.unref();
  return {
    worker,
    async stop() {
      clearInterval(trickle);
      await worker.stop();
    },
  };
}
