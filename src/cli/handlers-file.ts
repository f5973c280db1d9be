import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Handlers, JobDefinition } from '../index.ts';
import { isJobDefinition } from '../typed/define-job.ts';
import { UsageError } from './usage-error.ts';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);
/** Node's answers when it cannot run a TypeScript file itself (no type stripping, or syntax it cannot strip). */
const NEEDS_TRANSPILER = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX', 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING']);

/**
 * Loads `spool worker --handlers FILE`: a module whose default export maps job names to handlers.
 *
 * A .js file is imported as it is. A .ts file goes through tsx's tsImport() when tsx can be found (next to
 * the file, in the current project, or beside Spool in a checkout): it works whether the project is ESM or
 * CommonJS. Without tsx, Node imports it itself where it strips types (22.18+, 23.6+); on older Node the
 * error says what to install.
 */
export async function loadHandlers(file: string, cwd: string): Promise<Handlers | JobDefinition[]> {
  const path = resolve(cwd, file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`--handlers ${file}: no such file (looked for ${path})`);
  const url = pathToFileURL(path).href;
  let module: Record<string, unknown>;
  try {
    const tsx = TYPESCRIPT.has(extname(path)) ? await findTsx(path, cwd) : undefined;
    module = (tsx ? await tsx.tsImport(url, url) : await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (TYPESCRIPT.has(extname(path)) && code && NEEDS_TRANSPILER.has(code)) {
      throw new UsageError(
        `--handlers ${file} is TypeScript, and Node ${process.version} cannot run it by itself. ` +
          'Install tsx in your project (npm install --save-dev tsx; spool uses it when present), ' +
          'or compile the file to .js, or use Node 22.18+ (which strips types itself)',
      );
    }
    throw new Error(`--handlers ${file} could not be loaded: ${(error as Error).message}`, { cause: error });
  }
  return handlersOf(file, module);
}

interface TsxApi {
  tsImport(specifier: string, parentURL: string): Promise<unknown>;
}

/**
 * tsx's ESM API, resolved from the file's folder, the project, or Spool itself. Imported as ESM: its
 * CommonJS build cannot register loaders when required from here (it resolves its own files wrongly).
 */
async function findTsx(path: string, cwd: string): Promise<TsxApi | undefined> {
  for (const from of [path, resolve(cwd, 'package.json'), fileURLToPath(import.meta.url)]) {
    let resolved: string;
    try {
      resolved = createRequire(from).resolve('tsx/esm/api');
    } catch {
      continue; // not installed where `from` can see it
    }
    const esm = resolved.replace(/\.cjs$/, '.mjs');
    const api = (await import(pathToFileURL(existsSync(esm) ? esm : resolved).href)) as Partial<TsxApi>;
    if (typeof api.tsImport === 'function') return api as TsxApi;
  }
  return undefined;
}

/** The default export, checked: an object of functions, at least one; or an array of typed jobs (defineJob). */
function handlersOf(file: string, module: Record<string, unknown>): Handlers | JobDefinition[] {
  let handlers = module.default as Record<string, unknown> | undefined;
  // A TypeScript file compiled to CommonJS puts the default export one level down.
  if (handlers && typeof handlers === 'object' && '__esModule' in handlers && typeof handlers.default === 'object') {
    handlers = handlers.default as Record<string, unknown>;
  }
  const example = "export default { 'send-email': async (job, ctx) => { … } }";
  if (handlers === undefined) throw new UsageError(`--handlers ${file} has no default export; end it with ${example}`);
  // Typed jobs (docs/typed-jobs.md): the server's queue then knows their schemas (GET /api/job-types).
  if (Array.isArray(handlers) && handlers.length > 0 && handlers.every(isJobDefinition)) return handlers as JobDefinition[];
  if (handlers === null || typeof handlers !== 'object' || Array.isArray(handlers)) {
    throw new UsageError(`--handlers ${file}: the default export must be an object of handlers by job name, like ${example}; got ${handlers === null ? 'null' : typeof handlers}`);
  }
  const entries = Object.entries(handlers);
  if (entries.length === 0) throw new UsageError(`--handlers ${file}: the default export has no handlers; add one, like ${example}`);
  const notFunctions = entries.filter(([, fn]) => typeof fn !== 'function').map(([name]) => JSON.stringify(name));
  if (notFunctions.length > 0) throw new UsageError(`--handlers ${file}: ${notFunctions.join(', ')} must be a function (job, ctx) => result`);
  return handlers as Handlers;
}
