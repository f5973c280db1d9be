// Long model-based runs, outside npm test: `npm run soak -- --sequences 100000 [--store sqlite|postgres|both]
// [--seed N] [--path P]`. Prints the seed first, progress every 1,000 sequences, and on a broken invariant
// fast-check's report (seed, path, the shrunk sequence): rerun with --seed and --path to replay it.
import { parseArgs } from 'node:util';
import { postgresModelDb, sqliteModelDb } from './dbs.ts';
import { runModel } from './run.ts';

const { values } = parseArgs({
  options: {
    sequences: { type: 'string', default: '10000' },
    store: { type: 'string', default: 'both' },
    seed: { type: 'string' },
    path: { type: 'string' },
  },
});
const sequences = Number(values.sequences);
const stores = values.store === 'both' ? ['sqlite', 'postgres'] : [values.store!];
const seed = values.seed !== undefined ? Number(values.seed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
let failed = false;
for (const store of stores) {
  const started = performance.now();
  console.log(`soak ${store}: ${sequences} sequences, seed ${seed}${values.path ? `, path ${values.path}` : ''}`);
  try {
    const db = store === 'sqlite' ? await sqliteModelDb() : await postgresModelDb();
    const result = await runModel(db, {
      runs: sequences,
      seed,
      path: values.path,
      progress: (done) => {
        if (done % 1_000 === 0) console.log(`  ${store}: ${done} sequences, ${Math.round((performance.now() - started) / 1000)} s`);
      },
    });
    console.log(`soak ${store}: ${result.sequences} sequences, ${result.steps} commands, every invariant held (${Math.round((performance.now() - started) / 1000)} s, seed ${seed})`);
  } catch (error) {
    failed = true;
    console.error(`soak ${store}: an invariant broke (seed ${seed}); replay: npm run soak -- --store ${store} --sequences ${sequences} --seed ${seed} [--path <path from the report>]`);
    console.error(error);
  }
}
process.exitCode = failed ? 1 : 0;
