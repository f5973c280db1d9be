#!/usr/bin/env node
// The `spool` command. In a checkout (src/ present) it runs src/cli/main.ts through tsx, so it never runs a
// stale build; an installed package ships no src/, only the built dist/cli/main.js, which plain Node runs.
import { existsSync } from 'node:fs';

const src = new URL('../src/cli/main.ts', import.meta.url);
const dist = new URL('../dist/cli/main.js', import.meta.url);

async function loadTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

if (existsSync(src) && (await loadTsx())) {
  await import(src.href);
} else if (existsSync(dist)) {
  await import(dist.href);
} else {
  process.stderr.write('spool: neither dist/cli/main.js nor tsx is here; in a checkout run npm install (or npm run build)\n');
  process.exitCode = 1;
}
