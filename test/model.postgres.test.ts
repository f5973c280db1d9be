import { before, test } from 'node:test';
import { postgresModelDb } from './model/dbs.ts';
import { runModel } from './model/run.ts';
import { requirePostgres } from './support/postgres.ts';

// Random sequences of adds, handler endings, progress, cancels, retries, deletes, clock moves, worker stops,
// starts and crashes against a small model (test/model/). A failure prints fast-check's seed and path:
// replay it with SPOOL_MODEL_SEED=<seed> SPOOL_MODEL_PATH=<path>; long runs: npm run soak.
const runs = Number(process.env.SPOOL_MODEL_RUNS ?? 400);

before(requirePostgres);

test(`model-based: ${runs} random sequences on PostgreSQL keep every invariant`, { timeout: 300_000 }, async (t) => {
  const seed = process.env.SPOOL_MODEL_SEED ? Number(process.env.SPOOL_MODEL_SEED) : undefined;
  const result = await runModel(await postgresModelDb(), { runs, seed, path: process.env.SPOOL_MODEL_PATH });
  t.diagnostic(`seed ${result.seed}: ${result.sequences} sequences, ${result.steps} commands`);
});
