import pg from 'pg';
import { FaultReporter } from '../../fault-reporter.ts';
import type { Logger } from '../../logger.ts';
import type { StatementCounter } from '../statement-counter.ts';
import type { FeedEvent, JobChangeType } from '../store.ts';

const CHANGE_TYPES: ReadonlySet<string> = new Set<JobChangeType>(['added', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled', 'deleted']);

/** Reconnect delays: 100 ms doubling up to 5 s, with jitter so a fleet does not reconnect in step. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/** What the feed needs to connect. */
export interface NotifyFeedOptions {
  client: pg.ClientConfig;
  channel: string;
  logger: Logger;
  counter: StatementCounter;
}

/**
 * PostgreSQL's change feed: one dedicated connection (outside the pool) that LISTENs on the schema's channel
 * while anyone watches. Every job-changing statement of every process sends at most one NOTIFY, so a watcher
 * learns of jobs added, started, progressing and finished anywhere, with no extra writes. When the connection
 * is lost it reconnects with backoff and tells listeners `external` (notifications may have been missed:
 * re-read, claim again); workers keep polling meanwhile.
 */
export class NotifyFeed {
  private readonly listeners = new Set<(events: FeedEvent[]) => void>();
  private client: pg.Client | undefined;
  private generation = 0;
  private active = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private readonly health: FaultReporter;

  constructor(private readonly options: NotifyFeedOptions) {
    this.health = new FaultReporter(options.logger, `the change feed (LISTEN ${options.channel})`, 'warn');
  }

  watch(listener: (events: FeedEvent[]) => void): () => void {
    this.listeners.add(listener);
    if (!this.active) {
      this.active = true;
      void this.connect();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.stop();
    };
  }

  /** Resolves once the feed listens (at once if it already does); tests use it to avoid racing the LISTEN. */
  listening(): Promise<void> {
    if (this.client) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Closes the listening connection; watching again reopens it. */
  async stop(): Promise<void> {
    this.active = false;
    this.generation++;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const client = new pg.Client(this.options.client);
    let gone = false;
    const lost = (error?: Error) => {
      if (gone) return;
      gone = true;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (generation !== this.generation || !this.active) return;
      this.client = undefined;
      this.failures++;
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1)) * (0.5 + Math.random() / 2);
      // One line per outage, not one per reconnect attempt; one more when it listens again.
      this.health.failed('listen', `stay connected (reconnecting with backoff up to ${RETRY_MAX_MS / 1000} s; workers poll meanwhile)`, error ?? new Error('connection ended'), {
        context: { channel: this.options.channel },
      });
      this.retryTimer = setTimeout(() => void this.connect(), delay);
      this.retryTimer.unref();
    };
    // A listener for 'error' is what keeps a terminated backend from crashing the process.
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => this.deliver(message.payload));
    try {
      await client.connect();
      this.options.counter.record('watch');
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch (error) {
      lost(error as Error);
      return;
    }
    if (gone) return;
    if (generation !== this.generation || !this.active) {
      gone = true;
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.failures = 0;
    this.health.succeeded('listen', { channel: this.options.channel });
    for (const resolve of this.waiters.splice(0)) resolve();
    // Changes committed between watch() and this LISTEN were never heard, on the first connection as on a
    // reconnect: listeners re-read (a worker claims once more), so a job added meanwhile waits for no poll.
    this.emit([{ type: 'external' }]);
  }

  private deliver(payload: string | undefined): void {
    this.emit(decodePayload(payload));
  }

  private emit(events: FeedEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (error) {
        this.options.logger.error(`a change feed listener threw: ${(error as Error)?.message ?? error}`);
      }
    }
  }
}

/**
 * Reads a NOTIFY payload written by the statements (see statements.ts): an array of per-type groups
 * `{ t, i?, c?, n, r }`, or "external" when the batch was too large to describe.
 */
export function decodePayload(payload: string | undefined): FeedEvent[] {
  let groups: unknown;
  try {
    groups = JSON.parse(payload ?? '');
  } catch {
    return [{ type: 'external' }];
  }
  if (!Array.isArray(groups)) return [{ type: 'external' }];
  const events: FeedEvent[] = [];
  for (const group of groups as { t?: unknown; i?: unknown; c?: unknown; n?: unknown; r?: unknown }[]) {
    if (typeof group?.t !== 'string' || !CHANGE_TYPES.has(group.t)) continue;
    const ids = Array.isArray(group.i) ? group.i.map(String) : [];
    events.push({
      type: group.t as JobChangeType,
      ids,
      names: Array.isArray(group.n) ? group.n.map(String) : [],
      ...(typeof group.r === 'number' ? { runAt: group.r } : {}),
      count: typeof group.c === 'number' ? group.c : ids.length,
    });
  }
  return events;
}
