/**
 * The npm package as a user gets it: `npm pack` (which runs prepack, so the build is fresh), installed into
 * an empty project, then used from plain Node ESM, from TypeScript (type-checked with moduleResolution
 * node16 and bundler), and through `npx spool`.
 *
 * Kept fast (~15 s): npm resolves from its local cache (--prefer-offline), and the install skips scripts:
 * the one native module, better-sqlite3, is pinned to the version this checkout built and its compiled addon
 * copied in, instead of compiled again (a minute of C++ on two cores). Everything else is installed as a
 * user's `npm install spool` would install it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exec, execOk } from './support/exec.ts';
import { dropSchema, freshSchemaName, PG_URL, requirePostgres } from './support/postgres.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, unknown>;
};
const versionOf = (dep: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', dep, 'package.json'), 'utf8')) as { version: string }).version;

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let work = '';
let project = '';
let packed: PackResult;
const schemas: string[] = [];
const npm = (args: string[], cwd: string) => execOk('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, timeoutMs: 180_000 });

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'spool-pack-'));
  const { stdout } = await npm(['pack', '--json', '--pack-destination', work], ROOT);
  packed = (JSON.parse(stdout) as PackResult[])[0]!;

  project = join(work, 'app');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module', overrides: { 'better-sqlite3': versionOf('better-sqlite3') } }, null, 2),
  );
  await npm(
    ['install', '--prefer-offline', '--ignore-scripts', join(work, packed.filename), `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`],
    project,
  );
  const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(join(project, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
  copyFileSync(join(ROOT, addon), join(project, addon));
});

after(async () => {
  for (const schema of schemas) await dropSchema(schema);
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds built JavaScript with types and the bin, and no sources, tests, benchmarks or maps', () => {
  const paths = packed.files.map((f) => f.path);
  for (const needed of ['package.json', 'README.md', 'LICENSE', 'bin/spool.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/dashboard/index.html']) {
    assert.ok(paths.includes(needed), `${needed} is in the package`);
  }
  // The dashboard is built by prepack (never copied by hand): its page, one script and one stylesheet.
  assert.ok(paths.some((p) => /^dist\/dashboard\/assets\/index-[\w-]+\.js$/.test(p)), 'the dashboard script is in the package');
  assert.ok(paths.some((p) => /^dist\/dashboard\/assets\/index-[\w-]+\.css$/.test(p)), 'the dashboard stylesheet is in the package');
  const unwanted = paths.filter((p) => /^(src|test|bench|examples|docs|\.ci)\//.test(p) || p.endsWith('.map') || p.endsWith('.ts') && !p.endsWith('.d.ts'));
  assert.deepEqual(unwanted, []);
  // Every .js has its .d.ts: TypeScript users get types for whatever they can import.
  const missingTypes = paths.filter((p) => p.startsWith('dist/') && !p.startsWith('dist/dashboard/') && p.endsWith('.js') && !paths.includes(p.replace(/\.js$/, '.d.ts')));
  assert.deepEqual(missingTypes, []);
});

test('the README states the package size within 20% of what npm pack reports', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /package is (\d+) kB packed \((\d+) kB unpacked\)/.exec(readme);
  assert.ok(match, 'README.md says "the package is N kB packed (M kB unpacked)"');
  const near = (stated: number, actual: number) => Math.abs(stated - actual / 1000) <= 0.2 * (actual / 1000);
  assert.ok(
    near(Number(match[1]), packed.size) && near(Number(match[2]), packed.unpackedSize),
    `README says ${match[1]} kB / ${match[2]} kB; npm pack reports ${Math.round(packed.size / 1000)} kB / ${Math.round(packed.unpackedSize / 1000)} kB: update the README`,
  );
});

const JS_APP = `
import { openQueue } from 'spool';

const [url, schema] = process.argv.slice(2);
const queue = await openQueue({ url, ...(schema ? { schema } : {}) });
const done = new Promise((resolve) => queue.on('completed', ({ job }) => resolve(job)));
const id = await queue.add('greet', { who: 'world' });
const worker = queue.worker({ greet: async (job, ctx) => { ctx.progress({ step: 1 }); return { hello: job.data.who }; } });
await worker.start();
await done;
await worker.stop();
const job = await queue.getJob(id);
await queue.close();
console.log(JSON.stringify({ id, status: job.status, result: job.result, progress: job.progress }));
`;

test('plain Node ESM imports spool from the installed package and runs a job on SQLite and on PostgreSQL', async () => {
  writeFileSync(join(project, 'app.mjs'), JS_APP);
  const sqlite = await execOk(process.execPath, ['app.mjs', `sqlite:${join(project, 'app.db')}`], { cwd: project });
  assert.deepEqual(JSON.parse(sqlite.stdout), { id: '1', status: 'completed', result: { hello: 'world' }, progress: { step: 1 } });

  await requirePostgres();
  const schema = freshSchemaName();
  schemas.push(schema);
  const postgres = await execOk(process.execPath, ['app.mjs', PG_URL, schema], { cwd: project });
  assert.deepEqual(JSON.parse(postgres.stdout), { id: '1', status: 'completed', result: { hello: 'world' }, progress: { step: 1 } });
});

const TS_APP = `
import { openQueue, ValidationError, type Job, type JobContext } from 'spool';

interface Greet { who: string }

async function greet(job: Job<Greet>, ctx: JobContext): Promise<{ hello: string }> {
  ctx.progress({ step: 1 });
  return { hello: job.data.who };
}

const queue = await openQueue(process.argv[2]);
const id: string = await queue.add('greet', { who: 'types' } satisfies Greet, { priority: 5, maxAttempts: 2 });
const worker = queue.worker({ greet }, { concurrency: 2 });
const done = new Promise<Job>((resolve) => queue.on('completed', ({ job }) => resolve(job)));
await worker.start();
const finished: Job = await done;
await worker.stop();
if (false as boolean) {
  // @ts-expect-error priority is a number: the types catch this before run time
  await queue.add('greet', {}, { priority: 'high' });
}
const rejected = await queue.add('', {}).then(() => 'accepted', (e: unknown) => (e instanceof ValidationError ? 'ValidationError' : String(e)));
await queue.close();
console.log(JSON.stringify({ id, status: finished.status, result: finished.result, rejected }));
`;

test('TypeScript type-checks against the installed types (node16 and bundler resolution) and runs a job', async () => {
  writeFileSync(join(project, 'app.ts'), TS_APP);
  const base = { target: 'ES2022', strict: true, skipLibCheck: false, types: ['node'], noUncheckedIndexedAccess: true };
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16', outDir: 'out' }, files: ['app.ts'] }),
  );
  writeFileSync(
    join(project, 'tsconfig.bundler.json'),
    JSON.stringify({ compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler', noEmit: true }, files: ['app.ts'] }),
  );
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  await execOk(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project });
  await execOk(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], { cwd: project });

  const { stdout } = await execOk(process.execPath, ['out/app.js', `sqlite:${join(project, 'ts.db')}`], { cwd: project });
  assert.deepEqual(JSON.parse(stdout), { id: '1', status: 'completed', result: { hello: 'types' }, rejected: 'ValidationError' });
});

test('every entry of package.json "exports" imports in the installed package', async () => {
  for (const entry of Object.keys(pkg.exports)) {
    const specifier = entry === '.' ? pkg.name : `${pkg.name}/${entry.slice(2)}`;
    const attributes = entry.endsWith('.json') ? ", { with: { type: 'json' } }" : '';
    const script = `const m = await import(${JSON.stringify(specifier)}${attributes}); console.log(Object.keys(m).length);`;
    const { stdout } = await execOk(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
    });
    assert.ok(Number(stdout) > 0, `${specifier} exports something`);
  }
});

test('the installed package serves its built dashboard at /', async () => {
  const script = `
    import { openQueue } from 'spool';
    import { createSpoolServer } from 'spool/server';
    const queue = await openQueue({ url: 'sqlite::memory:' });
    const spool = createSpoolServer(queue);
    const get = (path) => spool.fetch(new Request('http://localhost' + path, { headers: { host: 'localhost' } }));
    const page = await (await get('/')).text();
    const asset = /src="\\.\\/(assets\\/index-[\\w-]+\\.js)"/.exec(page)?.[1];
    const js = asset ? await get('/' + asset) : undefined;
    console.log(JSON.stringify({ config: page.includes('id="spool-config"'), asset, status: js?.status, type: js?.headers.get('content-type') }));
    await spool.close();
    await queue.close();`;
  const { stdout } = await execOk(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
  const served = JSON.parse(stdout) as { config: boolean; asset?: string; status?: number; type?: string };
  assert.equal(served.config, true, stdout);
  assert.ok(served.asset, `the page links its script: ${stdout}`);
  assert.equal(served.status, 200);
  assert.match(served.type!, /text\/javascript/);
});

test('spool worker runs .js handlers from the installed package, and .ts ones once the project has tsx', async () => {
  const url = `sqlite:${join(project, 'cli.db')}`;
  const env = { SPOOL_DATABASE_URL: url, NO_COLOR: '1' };
  writeFileSync(join(project, 'handlers.mjs'), 'export default { greet: async (job) => ({ hello: job.data.who }) };\n');
  writeFileSync(
    join(project, 'handlers.ts'),
    "import type { Job } from 'spool';\nexport default { greet: async (job: Job<{ who: string }>) => ({ hello: job.data.who }) };\n",
  );
  const runWorker = async (file: string) => {
    await execOk('npx', ['--no-install', 'spool', 'add', 'greet', '{"who":"cli"}'], { cwd: project, env });
    // The installed bin itself, not npx: npx does not pass SIGTERM on to the command it runs.
    const child = spawn(join(project, 'node_modules', '.bin', 'spool'), ['worker', '--handlers', file], { cwd: project, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!/completed\s+\d+ greet/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no completed job from spool worker --handlers ${file}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    assert.match(out, /stopped: finished 1 job/);
  };
  await runWorker('handlers.mjs');

  // Node 20 cannot run TypeScript by itself: the message says what to install.
  const refused = await exec('npx', ['--no-install', 'spool', 'worker', '--handlers', 'handlers.ts'], { cwd: project, env });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /npm install --save-dev tsx/);
  await npm(['install', '--prefer-offline', '--ignore-scripts', '--save-dev', `tsx@${versionOf('tsx')}`], project);
  await runWorker('handlers.ts');
});

test('npx spool runs from the installed package with plain Node: --help, --version, and bench says it needs a checkout', async () => {
  const help = await execOk('npx', ['--no-install', 'spool', '--help'], { cwd: project });
  assert.match(help.stdout, /Usage: spool/);
  const version = await execOk('npx', ['--no-install', 'spool', '--version'], { cwd: project });
  assert.equal(version.stdout.trim(), pkg.version);
  const bench = await exec('npx', ['--no-install', 'spool', 'bench', '--quick', '--db', `sqlite:${join(project, 'b.db')}`], { cwd: project });
  assert.equal(bench.code, 1);
  assert.equal(bench.stderr.trim().split('\n').length, 1, `one line, got:\n${bench.stderr}`);
  assert.match(bench.stderr, /checkout/);
});
