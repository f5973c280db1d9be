import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import type { Features } from './routes/features.ts';

/**
 * Where a built dashboard is looked for when no dashboardDir is given, first found wins (this file is
 * <package>/dist/server/static.js in the package, <repo>/src/server/static.ts in a checkout): the package's
 * dist/dashboard/ (npm run build puts it there), then a checkout's dashboard/dist/ (the dashboard's own build).
 */
export const DASHBOARD_DIRS: readonly string[] = [
  fileURLToPath(new URL('../dashboard/', import.meta.url)),
  fileURLToPath(new URL('../../dist/dashboard/', import.meta.url)),
  fileURLToPath(new URL('../../dashboard/dist/', import.meta.url)),
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built dashboard from a directory: its files as they are (hashed assets cached for a year), and
 * for any other path index.html (the SPA's own routes), with the server's config injected as a JSON block and
 * a <base href> at the browser-facing base path, so the dashboard's relative asset URLs work under any prefix.
 * Without a build, a minimal page links the API.
 */
export class Dashboard {
  private readonly root: string | undefined;
  private readonly index: string | undefined;

  constructor(dir: string | false | undefined) {
    const candidates = dir === false ? [] : dir === undefined ? DASHBOARD_DIRS : [dir];
    const candidate = candidates.map((d) => resolve(d)).find((d) => existsSync(join(d, 'index.html')));
    if (candidate) {
      this.root = realpathSync(candidate);
      this.index = readFileSync(join(this.root, 'index.html'), 'utf8');
    }
  }

  /** True when a built dashboard was found. */
  get built(): boolean {
    return this.root !== undefined;
  }

  /** Answers a GET for `path` (relative to the base path). */
  serve(c: Context, path: string, features: Features): Response {
    if (this.root) {
      const file = this.file(path);
      if (file) {
        const immutable = /\/assets\//.test(path) && /[.-][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(path);
        return new Response(readFileSync(file), {
          headers: {
            'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
            'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
            'X-Content-Type-Options': 'nosniff',
          },
        });
      }
    }
    // The Content-Security-Policy comes from the app's secure-headers middleware: the config is a non-executable
    // JSON block, so the page needs no inline script and no nonce.
    return c.html(this.page(features), 200, { 'Cache-Control': 'no-cache' });
  }

  /** The file under the root for a request path, or undefined (missing, a directory, or outside the root). */
  private file(path: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    const candidate = resolve(this.root!, `.${decoded.startsWith('/') ? '' : '/'}${decoded}`);
    if (candidate !== this.root && !candidate.startsWith(this.root! + sep)) return undefined;
    try {
      if (!statSync(candidate).isFile()) return undefined;
      const real = realpathSync(candidate);
      return real.startsWith(this.root! + sep) ? real : undefined;
    } catch {
      return undefined;
    }
  }

  private page(features: Features): string {
    const base = `${features.basePath}/`;
    const config = jsonForHtml({ basePath: features.basePath, auth: features.auth, readOnly: features.readOnly, store: features.store, version: features.version });
    const head = `<base href="${escapeHtml(base)}"><script id="spool-config" type="application/json">${config}</script>`;
    // First thing in <head>: a <base> applies only to URLs after it, and the built page's script and stylesheet
    // links follow, so their relative URLs resolve under the base path from any SPA route (/jobs/x/…).
    if (this.index) return /<head[^>]*>/i.test(this.index) ? this.index.replace(/<head[^>]*>/i, (open) => `${open}${head}`) : head + this.index;
    const links = [
      ['api/features', 'what this server has'],
      ['api/jobs', 'jobs, newest first (?status=&name=&limit=&cursor=)'],
      ['api/stats', 'counts by status and name'],
      ['api/names', 'job names'],
      ['api/stats/throughput', 'completed and failed per minute'],
      ['metrics', 'Prometheus metrics'],
      ['healthz', 'health'],
    ];
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">${head}<title>Spool</title></head>
<body><h1>Spool</h1><p>${escapeHtml(features.store)} store, version ${escapeHtml(features.version)}${features.readOnly ? ', read-only' : ''}${
      features.auth ? ', token required (Authorization: Bearer …)' : ''
    }. The dashboard is not built into this copy; the API:</p>
<ul>${links.map(([href, what]) => `<li><a href="${href}">${href}</a> — ${what}</li>`).join('')}</ul>
<p>Live events: a WebSocket at <code>api/events</code>.</p></body></html>`;
  }
}

/** JSON safe inside a <script> block: no "</script>", no "<!--". */
function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
