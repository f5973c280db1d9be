import type { Adapter } from './adapters/adapter.ts';
import { ProgressBar } from './lib/progress-bar.ts';
import { describeMachine, type MachineInfo } from './lib/machine.ts';
import { type Sample, type Sizes, WORKLOADS } from './workloads.ts';

/** One figure: a metric of one system, variant, workload and case, over all runs. */
export interface Figure {
  system: string;
  label: string;
  store: Adapter['store'];
  variant: string;
  settings: string;
  workload: string;
  case: string;
  metric: string;
  unit: string;
  runs: number[];
  median: number;
  min: number;
  max: number;
  /** Runs that hit the drain time limit (their value is the rate until then). */
  capped: number;
}

/** Everything one benchmark run produced: what bench/results/*.json holds and the report is made from. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  runs: number;
  sizes: Sizes;
  command: string;
  machine: MachineInfo;
  systems: { id: string; label: string; store: Adapter['store']; counting: string; notes: string; variants: { id: string; settings: string }[] }[];
  figures: Figure[];
  skipped: { system: string; reason: string }[];
  errors: { system: string; variant: string; workload: string; case: string; run: number; message: string }[];
}

export interface BenchPlan {
  adapters: Adapter[];
  workloads: string[];
  runs: number;
  sizes: Sizes;
  quick: boolean;
  command: string;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs every (system, variant, workload, case) `runs` times, each run on a fresh queue, one after another
 * (never two systems at once: they share 2 cores). A failing run is recorded and the rest go on, also when
 * the failure is an error a peer throws where nobody awaits it (an uncaught exception or rejection).
 */
export async function runBenchmark(plan: BenchPlan): Promise<BenchResults> {
  const startedAt = new Date().toISOString();
  const machine = await describeMachine();
  const skipped: BenchResults['skipped'] = [];
  const errors: BenchResults['errors'] = [];
  const active: Adapter[] = [];
  for (const adapter of plan.adapters) {
    const reason = adapter.unavailable ? await adapter.unavailable() : null;
    if (reason) {
      process.stderr.write(`skipping ${adapter.id}: ${reason}\n`);
      skipped.push({ system: adapter.id, reason });
    } else active.push(adapter);
  }

  const steps: { adapter: Adapter; variant: Adapter['variants'][number]; workload: (typeof WORKLOADS)[number]; caseId: string }[] = [];
  for (const adapter of active) {
    for (const variant of adapter.variants) {
      for (const workload of WORKLOADS) {
        if (!plan.workloads.includes(workload.id) || !adapter.workloads.includes(workload.id)) continue;
        if (variant.workloads && !variant.workloads.includes(workload.id)) continue;
        for (const caseId of workload.cases(plan.sizes)) steps.push({ adapter, variant, workload, caseId });
      }
    }
  }

  const bar = new ProgressBar(steps.length * plan.runs);
  const collected = new Map<string, { step: (typeof steps)[number]; sample: Sample; values: number[]; capped: number }>();
  // A peer's own error that nobody awaits (pg-boss threw `terminating connection` from its pool's 'error' event)
  // would end the whole process. While the benchmark runs, such errors fail the run in progress instead, and
  // one arriving between runs is recorded against the run before it.
  let current: { label: string; fail: (error: unknown) => void } | undefined;
  let last: { step: (typeof steps)[number]; run: number } | undefined;
  const onStray = (error: unknown) => {
    if (current) return current.fail(error);
    const message = `after the run ended: ${(error as Error)?.stack ?? String(error)}`;
    bar.note(`stray error ${message}`);
    if (last) errors.push({ system: last.step.adapter.id, variant: last.step.variant.id, workload: last.step.workload.id, case: last.step.caseId, run: last.run, message });
  };
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);
  try {
    for (const step of steps) {
      for (let run = 1; run <= plan.runs; run++) {
        const label = `${step.adapter.id}/${step.variant.id} ${step.workload.id} ${step.caseId} run ${run}/${plan.runs}`;
        bar.show(label);
        try {
          const stray = new Promise<never>((_, reject) => (current = { label, fail: reject }));
          const samples = await Promise.race([
            step.workload.run({ adapter: step.adapter, variant: step.variant, sizes: plan.sizes, caseId: step.caseId }),
            stray,
          ]);
          for (const sample of samples) {
            const key = [step.adapter.id, step.variant.id, step.workload.id, sample.case, sample.metric].join('\u0000');
            const entry = collected.get(key) ?? { step, sample, values: [], capped: 0 };
            entry.values.push(sample.value);
            if (sample.capped) entry.capped++;
            collected.set(key, entry);
          }
        } catch (error) {
          const message = (error as Error)?.stack ?? String(error);
          bar.note(`error in ${label}: ${message}`);
          errors.push({ system: step.adapter.id, variant: step.variant.id, workload: step.workload.id, case: step.caseId, run, message });
        } finally {
          current = undefined;
          last = { step, run };
        }
        bar.step(label);
      }
    }
  } finally {
    process.off('uncaughtException', onStray);
    process.off('unhandledRejection', onStray);
  }
  bar.finish();

  const figures: Figure[] = [...collected.values()].map(({ step, sample, values, capped }) => ({
    system: step.adapter.id,
    label: step.adapter.label,
    store: step.adapter.store,
    variant: step.variant.id,
    settings: step.variant.settings,
    workload: step.workload.id,
    case: sample.case,
    metric: sample.metric,
    unit: sample.unit,
    runs: values,
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    capped,
  }));

  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: plan.quick,
    runs: plan.runs,
    sizes: plan.sizes,
    command: plan.command,
    machine,
    systems: plan.adapters.map((a) => ({
      id: a.id,
      label: a.label,
      store: a.store,
      counting: a.counting,
      notes: a.notes,
      variants: a.variants.map((v) => ({ id: v.id, settings: v.settings })),
    })),
    figures,
    skipped,
    errors,
  };
}
