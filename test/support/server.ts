import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { Queue } from '../../src/index.ts';
import type { SpoolServer } from '../../src/server/index.ts';

/** Store methods that write; a rejected request must send none of them. */
export const WRITE_METHODS = ['enqueue', 'claim', 'finish', 'tick', 'setProgress', 'transition', 'prune', 'journal', 'bulk'];

/** Statements of the write methods sent so far. */
export function writesSent(queue: Queue): number {
  const by = queue.stats().byMethod;
  return WRITE_METHODS.reduce((n, m) => n + (by[m] ?? 0), 0);
}

export interface CallOptions {
  body?: unknown;
  /** Raw body text (sent as is, with Content-Type application/json unless headers say otherwise). */
  raw?: string;
  headers?: Record<string, string>;
  token?: string;
}

/** Calls the server's fetch handler in-process (no port): method, path, JSON body, headers. */
export function caller(server: SpoolServer, host = 'localhost:7700') {
  return async (method: string, path: string, o: CallOptions = {}) => {
    const headers: Record<string, string> = { host, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) };
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, o.headers ?? {});
    const response = await server.fetch(new Request(`http://${host}${path}`, { method, headers, body }));
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json: json as Record<string, unknown> & { error?: { code: string; message: string } } };
  };
}

/** A WebSocket client that collects messages and waits for the ones it needs. */
export class TestSocket {
  readonly messages: Record<string, unknown>[] = [];
  private waiters = new Set<() => void>();
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      for (const w of this.waiters) w();
    });
    ws.on('close', () => {
      for (const w of this.waiters) w();
    });
  }

  static open(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options.protocols ?? ['spool'], { headers: options.headers });
      const socket = new TestSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Resolves with the first message (from index `from`) matching; fails after `timeoutMs`. */
  next(match: (m: Record<string, unknown>) => boolean, what: string, timeoutMs = 10_000, from = 0): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.slice(from).find(match);
        if (found) {
          done();
          resolve(found);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed before ${what}; got ${JSON.stringify(this.messages).slice(0, 500)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 500)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await closed;
  }
}

/** Asserts an error response: its status, its code, and optionally words of its message. */
export function assertError(r: { status: number; json: { error?: { code: string; message: string } } }, status: number, code: string, says: RegExp[] = []): void {
  assert.equal(r.status, status, `status: ${JSON.stringify(r.json)}`);
  assert.equal(r.json?.error?.code, code, JSON.stringify(r.json));
  for (const re of says) assert.match(r.json.error!.message, re);
}
