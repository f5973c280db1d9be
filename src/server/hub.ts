import type { WebSocket } from 'ws';
import type { WatchEvent } from '../events.ts';
import { jobIdSchema, jobNameSchema } from '../input-schemas.ts';
import type { Logger } from '../logger.ts';
import type { Queue } from '../queue.ts';
import { z } from 'zod';

/** Hub settings; the defaults suit a dashboard. */
export interface HubOptions {
  /** A job's events reach one client at most once per this many ms (the latest one wins). Default 250. */
  coalesceMs?: number;
  /** Bytes a client may have unsent before it gets no events, only a 'resync' once it catches up. Default 256 KiB. */
  lagBytes?: number;
  /** A client lagging this long, or with this many bytes unsent, is dropped. Defaults 30 s, 4 MiB. */
  dropAfterMs?: number;
  dropBytes?: number;
  /** Held (coalesced, unsent) events per client before it is treated as lagging. Default 2,000. */
  maxHeld?: number;
}

/** What a client subscribes to: jobs of these names OR these ids (neither: every job), and the counts. */
const subscribeMessage = z.strictObject({
  subscribe: z.strictObject({
    names: z.array(jobNameSchema).max(100, 'must list at most 100 names').optional(),
    ids: z.array(jobIdSchema).max(1000, 'must list at most 1000 ids').optional(),
    counts: z.boolean({ error: 'must be true or false' }).optional(),
  }),
});
const unsubscribeMessage = z.strictObject({ unsubscribe: z.literal(true) });

interface Client {
  socket: WebSocket;
  /** null: subscribed to nothing yet. */
  names: Set<string> | null;
  ids: Set<string>;
  all: boolean;
  counts: boolean;
  /** When each job's last event went out (ms), for the coalescing window. */
  sentAt: Map<string, number>;
  /** The latest event of each job waiting for its window. */
  held: Map<string, WatchEvent>;
  timer: NodeJS.Timeout | undefined;
  lagSince: number | undefined;
  dropped: number;
  alive: boolean;
}

const OPEN = 1;

/**
 * Live events for any number of WebSocket clients from ONE queue.watch() subscription (database load does
 * not grow with open tabs). The subscription is re-made with the union of what clients want whenever that
 * changes, so the store reads only jobs someone shows. Per client and job, events are coalesced to one per
 * `coalesceMs` (leading edge sent at once, the latest of the rest at the window's end). A client that does
 * not read (unsent bytes over `lagBytes`, or too many held events) gets nothing more until it catches up,
 * then one `{ type: 'resync' }` telling it to re-read; one that stays behind is dropped. Memory per client is
 * bounded by `maxHeld` events and the socket's own buffer.
 */
export class Hub {
  private readonly clients = new Set<Client>();
  private readonly opts: Required<HubOptions>;
  private unwatch: (() => void) | undefined;
  private watchKey = '';
  private countsTimer: NodeJS.Timeout | undefined;
  private countsDirty = false;
  private heartbeat: NodeJS.Timeout;
  /** Messages sent per event type since start, for metrics and tests. */
  readonly sent = { events: 0, resyncs: 0, dropped: 0 };

  constructor(
    private readonly queue: Queue,
    private readonly logger: Logger,
    options: HubOptions = {},
    private readonly hello: () => Record<string, unknown> = () => ({}),
  ) {
    this.opts = {
      coalesceMs: options.coalesceMs ?? 250,
      lagBytes: options.lagBytes ?? 256 * 1024,
      dropAfterMs: options.dropAfterMs ?? 30_000,
      dropBytes: options.dropBytes ?? 4 * 1024 * 1024,
      maxHeld: options.maxHeld ?? 2_000,
    };
    // Finds clients that vanished without a close (a laptop lid, a dropped NAT entry).
    this.heartbeat = setInterval(() => this.ping(), 30_000);
    this.heartbeat.unref();
  }

  /** Open connections. */
  get size(): number {
    return this.clients.size;
  }

  /** Takes a connected socket. */
  add(socket: WebSocket): void {
    const client: Client = {
      socket, names: null, ids: new Set(), all: false, counts: false,
      sentAt: new Map(), held: new Map(), timer: undefined, lagSince: undefined, dropped: 0, alive: true,
    };
    this.clients.add(client);
    socket.on('message', (data, isBinary) => this.onMessage(client, isBinary ? null : data.toString()));
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => this.remove(client));
    socket.on('error', () => this.remove(client));
    this.send(client, { type: 'hello', ...this.hello(), coalesceMs: this.opts.coalesceMs });
  }

  /** Closes every client and the subscription. */
  close(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.countsTimer);
    for (const client of [...this.clients]) {
      client.socket.close(1001, 'server closing');
      this.remove(client);
    }
    this.unwatch?.();
    this.unwatch = undefined;
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    clearTimeout(client.timer);
    client.held.clear();
    this.resubscribe();
  }

  private onMessage(client: Client, text: string | null): void {
    let message: unknown;
    try {
      message = text === null ? undefined : JSON.parse(text);
    } catch {
      message = undefined;
    }
    const sub = subscribeMessage.safeParse(message);
    if (sub.success) {
      const { names = [], ids = [], counts = false } = sub.data.subscribe;
      client.names = new Set(names);
      client.ids = new Set(ids);
      client.all = names.length === 0 && ids.length === 0;
      client.counts = counts;
      client.held.clear();
      this.send(client, { type: 'subscribed', names, ids, counts });
      this.resubscribe();
      if (counts) this.countsChanged();
      return;
    }
    if (unsubscribeMessage.safeParse(message).success) {
      client.names = null;
      client.ids = new Set();
      client.all = false;
      client.counts = false;
      client.held.clear();
      this.send(client, { type: 'unsubscribed' });
      this.resubscribe();
      return;
    }
    const issue = sub.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    this.send(client, {
      type: 'error',
      error: {
        code: 'VALIDATION',
        message: `send { "subscribe": { "names": [...], "ids": [...], "counts": true } } or { "unsubscribe": true } as JSON text${
          issue && message !== undefined ? ` (${where}${issue.message})` : ''
        }`,
      },
    });
  }

  /** Re-makes the queue subscription when the union of the clients' interests changed. */
  private resubscribe(): void {
    const subscribed = [...this.clients].filter((c) => c.names !== null);
    let key = '';
    let options: { names?: string[]; ids?: string[] } | undefined;
    if (subscribed.some((c) => c.all)) {
      key = '*';
      options = {};
    } else if (subscribed.length > 0) {
      const names = [...new Set(subscribed.flatMap((c) => [...c.names!]))].sort();
      const ids = [...new Set(subscribed.flatMap((c) => [...c.ids]))].sort();
      key = JSON.stringify([names, ids]);
      options = { ...(names.length > 0 ? { names } : {}), ...(ids.length > 0 ? { ids } : {}) };
    }
    const wantsCounts = this.clients.size > 0 && [...this.clients].some((c) => c.counts);
    if (wantsCounts && key === '') {
      key = 'counts';
      options = {};
    }
    if (key === this.watchKey) return;
    const previous = this.unwatch;
    this.watchKey = key;
    // Subscribe before unsubscribing, so the store's feed never stops between the two.
    this.unwatch = options
      ? this.queue.watch((event) => this.onEvent(event), { ...options, onGap: (reason) => this.onGap(reason) })
      : undefined;
    previous?.();
  }

  private onEvent(event: WatchEvent): void {
    this.countsChanged();
    const now = performance.now();
    for (const client of this.clients) {
      if (!wants(client, event)) continue;
      if (client.lagSince !== undefined) {
        client.dropped++;
        continue;
      }
      const id = event.job.id;
      const last = client.sentAt.get(id);
      if (!client.held.has(id) && (last === undefined || now - last >= this.opts.coalesceMs)) {
        this.deliver(client, event, now);
        continue;
      }
      client.held.set(id, event);
      if (client.held.size > this.opts.maxHeld) {
        client.dropped += client.held.size;
        client.held.clear();
        this.lag(client, now);
        continue;
      }
      this.schedule(client, last === undefined ? 0 : Math.max(0, last + this.opts.coalesceMs - now));
    }
  }

  private onGap(reason: string): void {
    for (const client of this.clients) {
      if (client.names === null) continue;
      client.held.clear();
      this.send(client, { type: 'resync', reason });
      this.sent.resyncs++;
    }
  }

  private schedule(client: Client, ms: number): void {
    if (client.timer) return;
    client.timer = setTimeout(() => {
      client.timer = undefined;
      this.flush(client);
    }, ms);
  }

  /** Sends what waited out its window; keeps what has not, and checks on a lagging client. */
  private flush(client: Client): void {
    const now = performance.now();
    if (client.lagSince !== undefined) {
      if (client.socket.bufferedAmount <= this.opts.lagBytes / 4) {
        client.lagSince = undefined;
        this.send(client, { type: 'resync', reason: `this connection fell behind; ${client.dropped} events were not sent: re-read what you show` });
        this.sent.resyncs++;
        client.dropped = 0;
      } else if (now - client.lagSince > this.opts.dropAfterMs) {
        return this.drop(client, 'behind for too long');
      } else {
        return this.schedule(client, this.opts.coalesceMs);
      }
    }
    let next = Number.POSITIVE_INFINITY;
    for (const [id, event] of client.held) {
      const last = client.sentAt.get(id) ?? 0;
      const due = last + this.opts.coalesceMs;
      if (due <= now) {
        client.held.delete(id);
        this.deliver(client, event, now);
        if (client.lagSince !== undefined) return;
      } else {
        next = Math.min(next, due);
      }
    }
    // Forget send times older than the window, so the map holds only recent jobs.
    if (client.sentAt.size > this.opts.maxHeld) {
      for (const [id, at] of client.sentAt) if (now - at >= this.opts.coalesceMs && !client.held.has(id)) client.sentAt.delete(id);
    }
    if (client.held.size > 0) this.schedule(client, Math.max(0, next - now));
  }

  private deliver(client: Client, event: WatchEvent, now: number): void {
    if (client.socket.bufferedAmount > this.opts.lagBytes) return this.lag(client, now, 1);
    client.sentAt.set(event.job.id, now);
    this.send(client, event);
    this.sent.events++;
  }

  private lag(client: Client, now: number, dropped = 0): void {
    client.dropped += dropped;
    if (client.socket.bufferedAmount > this.opts.dropBytes) return this.drop(client, 'too much unsent');
    client.lagSince ??= now;
    client.held.clear();
    this.schedule(client, this.opts.coalesceMs);
  }

  private drop(client: Client, why: string): void {
    this.sent.dropped++;
    this.logger.warn(`spool server: dropped a WebSocket client that did not keep up (${why}; ${client.dropped} events unsent)`);
    client.socket.terminate();
    this.remove(client);
  }

  /** Counts changed: push them to clients that asked, at most once a second (one read for all of them). */
  private countsChanged(): void {
    this.countsDirty = true;
    if (this.countsTimer || ![...this.clients].some((c) => c.counts)) return;
    this.countsTimer = setTimeout(() => void this.pushCounts(), 1_000);
    this.countsTimer.unref();
  }

  private async pushCounts(): Promise<void> {
    this.countsTimer = undefined;
    if (!this.countsDirty) return;
    this.countsDirty = false;
    try {
      const byName = await this.queue.countsByName();
      const counts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
      for (const c of Object.values(byName)) for (const [s, n] of Object.entries(c)) counts[s as keyof typeof counts] += n;
      for (const client of this.clients) if (client.counts && client.lagSince === undefined) this.send(client, { type: 'counts', counts, byName });
    } catch (error) {
      this.logger.warn(`spool server: could not read counts for WebSocket clients: ${(error as Error).message}`);
    }
  }

  private send(client: Client, message: unknown): void {
    if (client.socket.readyState !== OPEN) return;
    client.socket.send(JSON.stringify(message));
  }

  private ping(): void {
    for (const client of [...this.clients]) {
      if (!client.alive) {
        client.socket.terminate();
        this.remove(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }
}

function wants(client: Client, event: WatchEvent): boolean {
  if (client.names === null) return false;
  if (client.all) return true;
  return client.ids.has(event.job.id) || (event.job.name !== null && client.names.has(event.job.name));
}
