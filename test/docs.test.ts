/**
 * The docs stay true: every code block marked runnable in README.md and docs/ runs (```ts runnable through
 * tsx against a fresh SQLite file, ```sh runnable with `spool` on the PATH); docs/cli.md's reference is the
 * CLI's own --help; the TSDoc builds into an API reference without warnings; relative links lead to files.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_DOC, expectedCliDoc } from '../scripts/cli-reference.ts';
import { SPOOL_BIN } from './support/cli.ts';
import { exec } from './support/exec.ts';
import { tempDir } from './support/sqlite.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC_INDEX = new URL('../src/index.ts', import.meta.url).href;
const SRC_SERVER = new URL('../src/server/index.ts', import.meta.url).href;
const TSX = import.meta.resolve('tsx');
/** zod, which docs/typed-jobs.md uses as its Standard Schema: resolved from this checkout, as 'spool' is. */
const ZOD = import.meta.resolve('zod');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Block {
  file: string;
  line: number;
  lang: 'ts' | 'sh';
  code: string;
}

/** Fenced blocks whose info string is `ts runnable` or `sh runnable`. */
function runnableBlocks(): Block[] {
  const blocks: Block[] = [];
  for (const file of DOCS) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(ts|sh) runnable\s*$/.exec(lines[i]!);
      if (!open) continue;
      const end = lines.indexOf('```', i + 1);
      assert.ok(end > i, `${file}:${i + 1}: the runnable block is not closed`);
      blocks.push({ file, line: i + 1, lang: open[1] as 'ts' | 'sh', code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return blocks;
}

describe('docs', { concurrency: 2 }, () => {
  const blocks = runnableBlocks();

  test('README and docs/ hold runnable blocks (the tour, getting started)', () => {
    assert.ok(blocks.filter((b) => b.file === 'README.md').length >= 3, 'the README tour is runnable');
    assert.ok(blocks.some((b) => b.file === 'docs/getting-started.md'));
  });

  for (const block of blocks) {
    test(`${block.file}:${block.line} (${block.lang}) runs`, async () => {
      const { dir, cleanup } = tempDir();
      try {
        const env = { SPOOL_DATABASE_URL: `sqlite:${join(dir, 'spool.db')}`, NO_COLOR: '1', SPOOL_SCHEMA: undefined };
        let result;
        if (block.lang === 'ts') {
          // `from 'spool'` is this checkout's source: the block runs against the code it documents.
          writeFileSync(join(dir, 'block.mts'), block.code.replace(/from 'spool'/g, `from '${SRC_INDEX}'`).replace(/from 'spool\/server'/g, `from '${SRC_SERVER}'`).replace(/from 'zod'/g, `from '${ZOD}'`));
          result = await exec(process.execPath, ['--import', TSX, 'block.mts'], { cwd: dir, env, timeoutMs: 60_000 });
        } else {
          mkdirSync(join(dir, 'bin'));
          writeFileSync(join(dir, 'bin', 'spool'), `#!/bin/sh\nexec "${process.execPath}" "${SPOOL_BIN}" "$@"\n`, { mode: 0o755 });
          result = await exec('bash', ['-euo', 'pipefail', '-c', block.code], { cwd: dir, env: { ...env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` }, timeoutMs: 120_000 });
        }
        assert.equal(result.code, 0, `${block.file}:${block.line} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
      } finally {
        cleanup();
      }
    });
  }

  test('the runnable TypeScript blocks type-check against the source (strict)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const files = blocks.filter((b) => b.lang === 'ts').map((b, i) => {
        const name = `block-${i}.mts`;
        writeFileSync(join(dir, name), `// ${b.file}:${b.line}\n${b.code}`);
        return name;
      });
      const compilerOptions = {
        strict: true,
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        paths: { spool: [join(ROOT, 'src', 'index.ts')], 'spool/server': [join(ROOT, 'src', 'server', 'index.ts')], zod: [join(ROOT, 'node_modules', 'zod', 'index.d.ts')] },
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, timeoutMs: 120_000 });
      assert.equal(result.code, 0, `type errors in runnable blocks (the first line of each file names its block):\n${result.stdout}`);
    } finally {
      cleanup();
    }
  });

  test('docs/cli.md carries the CLI\'s own --help (npm run docs:cli rewrites it)', () => {
    const current = readFileSync(CLI_DOC, 'utf8');
    assert.ok(current === expectedCliDoc(current), 'docs/cli.md is out of date with the CLI: run npm run docs:cli');
  });

  test('the API reference builds from the TSDoc with no warning (npm run docs:api)', async () => {
    const typedoc = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const result = await exec(process.execPath, [typedoc, '--emit', 'none'], { cwd: ROOT, timeoutMs: 120_000 });
    assert.equal(result.code, 0, `typedoc reported problems:\n${result.stdout}\n${result.stderr}`);
  });

  test("the README's comparison cites the benchmark run docs/BENCHMARKS.md reports (refresh its figures after a new run)", () => {
    const report = readFileSync(join(ROOT, 'docs', 'BENCHMARKS.md'), 'utf8');
    const run = /^Run (\d{4}-\d{2}-\d{2})T/m.exec(report)?.[1];
    assert.ok(run, 'docs/BENCHMARKS.md names the date of its run');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.ok(readme.includes(`run of ${run}`), `README.md's "How Spool compares" cites another run than ${run}: update its figures from docs/BENCHMARKS.md and the date`);
  });

  test('relative links in README and docs/ lead to files that exist', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!.split('#')[0]!;
        if (target === '' || /^[a-z]+:/.test(target)) continue;
        if (!existsSync(resolve(dirname(join(ROOT, file)), target))) broken.push(`${file}: ${match[1]}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
