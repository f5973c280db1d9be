import fc from 'fast-check';
import { drain, type Step, stepArbitraries } from './commands.ts';
import { Model } from './model.ts';
import { type ModelDb, World } from './world.ts';

/** Settings of one model-based run. */
export interface ModelRunOptions {
  /** Sequences to run. */
  runs: number;
  /** fast-check seed; a failure prints it (and the shrunk path) so the run replays. Default random. */
  seed?: number;
  /** Replays one failing case: the `path` fast-check printed. */
  path?: string;
  /** Commands per sequence at most. */
  maxCommands?: number;
  /** Called every `every` sequences with how many ran. */
  progress?: (done: number) => void;
}

/**
 * Runs random sequences of commands against one database (emptied between sequences) and the model.
 * Resolves with what ran; rejects with fast-check's report (seed, path, shrunk counterexample) on the first
 * broken invariant.
 */
export async function runModel(db: ModelDb, options: ModelRunOptions): Promise<{ sequences: number; steps: number; seed: number }> {
  const world = await World.open(db);
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  let sequences = 0;
  let steps = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.commands(stepArbitraries() as fc.Arbitrary<fc.AsyncCommand<object, unknown>>[], { maxCommands: options.maxCommands ?? 15, size: '+1' }), async (concurrency, commands) => {
        const model = new Model();
        world.registry.mayStart = (id) => model.mayStart(id);
        sequences++;
        options.progress?.(sequences);
        try {
          const live = await world.startWorker(concurrency);
          model.live = { tag: live.tag, concurrency };
          for (const step of commands as Iterable<unknown> as Iterable<Step>) {
            if (!step.check(model)) continue;
            steps++;
            await step.run(model, world);
          }
          await drain(model, world);
        } finally {
          await world.endSequence();
        }
      }),
      { numRuns: options.runs, seed, ...(options.path ? { path: options.path } : {}), endOnFailure: false, verbose: 1 },
    );
  } finally {
    await world.close();
  }
  return { sequences, steps, seed };
}
