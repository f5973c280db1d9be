#!/usr/bin/env node
// The `spool` command: the built CLI (dist/cli/main.js) when present, otherwise src/cli/main.ts through tsx
// (a checkout without a build).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
