import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATUSES } from '../job.ts';
import type { Queue } from '../queue.ts';
import type { QueueEvent } from '../events.ts';
import type { Hub } from './hub.ts';

/**
 * The Prometheus metrics of one server, in a registry of its own (two servers in one process never collide,
 * and the host application's default registry is left alone):
 *
 * - `spool_jobs{name,status}`: jobs by name and status, read at scrape time in one statement (the exact counters).
 * - `spool_attempt_duration_seconds{name,outcome}`: attempts run by workers of THIS process (spool serve
 *   --handlers, or workers of the queue you passed), from in-process events: no database read per job.
 * - `spool_jobs_started_total{name}`: jobs this process's workers started (claimed and began).
 * - `spool_store_statements_total{method}`, `spool_store_round_trips_total`: what this process sent its database.
 * - `spool_websocket_clients`, `spool_websocket_messages_total{kind}`: the live-event hub.
 * - Node's defaults (prefix `spool_`), event-loop lag (`spool_nodejs_eventloop_lag_seconds`) among them.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly durations: Histogram<'name' | 'outcome'>;
  private readonly started: Counter<'name'>;
  private readonly listeners: [Parameters<Queue['on']>[0], (e: QueueEvent) => void][] = [];

  constructor(
    private readonly queue: Queue,
    hub: Hub,
  ) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: 'spool_' });
    new Gauge({
      name: 'spool_jobs',
      help: 'Jobs by name and status (exact).',
      labelNames: ['name', 'status'],
      registers: [registry],
      async collect() {
        this.reset();
        const byName = await queue.countsByName();
        for (const [name, counts] of Object.entries(byName)) for (const status of JOB_STATUSES) this.set({ name, status }, counts[status]);
      },
    });
    this.durations = new Histogram({
      name: 'spool_attempt_duration_seconds',
      help: 'How long attempts run by this process took, by job name and outcome (completed, retrying, failed).',
      labelNames: ['name', 'outcome'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers: [registry],
    });
    this.started = new Counter({ name: 'spool_jobs_started_total', help: 'Jobs the workers of this process started.', labelNames: ['name'], registers: [registry] });
    new Counter({
      name: 'spool_store_statements_total',
      help: 'SQL statements this process sent to its database, by store method.',
      labelNames: ['method'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [method, n] of Object.entries(queue.stats().byMethod)) this.inc({ method }, n);
      },
    });
    new Counter({
      name: 'spool_store_round_trips_total',
      help: 'Round trips (calls that waited on the database) of this process.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(queue.stats().roundTrips);
      },
    });
    new Gauge({
      name: 'spool_websocket_clients',
      help: 'Open WebSocket connections of the live-event hub.',
      registers: [registry],
      collect() {
        this.set(hub.size);
      },
    });
    new Counter({
      name: 'spool_websocket_messages_total',
      help: 'Messages the hub sent: job events, resyncs (a client told to re-read), clients dropped for not keeping up.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ kind: 'event' }, hub.sent.events);
        this.inc({ kind: 'resync' }, hub.sent.resyncs);
        this.inc({ kind: 'dropped' }, hub.sent.dropped);
      },
    });
    this.listen('started', (e) => this.started.inc({ name: e.job.name }));
    for (const type of ['completed', 'retrying', 'failed'] as const) {
      this.listen(type, (e) => {
        if (e.job.startedAt) this.durations.observe({ name: e.job.name, outcome: type }, Math.max(0, Date.now() - e.job.startedAt.getTime()) / 1000);
      });
    }
  }

  /** The text Prometheus scrapes. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Stops listening to the queue. */
  close(): void {
    for (const [type, listener] of this.listeners) this.queue.off(type, listener);
    this.registry.clear();
  }

  private listen(type: Parameters<Queue['on']>[0], listener: (e: QueueEvent) => void): void {
    this.queue.on(type, listener);
    this.listeners.push([type, listener]);
  }
}
