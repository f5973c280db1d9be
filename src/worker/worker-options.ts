import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ValidationError } from '../errors.ts';
import { jobNameSchema, parseInput, workerOptionsSchema } from '../input-schemas.ts';
import type { Job } from '../job.ts';
import type { JobContext } from './attempt.ts';

/** Options of queue.worker(). */
export interface WorkerOptions {
  /**
   * Jobs run at once; default 1. Whatever this is, the worker has at most three statements in flight (its
   * claim, its finish and its tick): on a PostgreSQL pool of 2 the third waits for a connection.
   */
  concurrency?: number;
  /** How often the tick writes progress and extends leases; default 1,000 ms. */
  progressFlushMs?: number;
  /** How long a claim holds a job without a tick; past it, another worker takes the job. Default 30,000 ms. */
  leaseMs?: number;
  /** How often an idle worker looks for jobs added by other processes or coming due; default 1,000 ms. */
  pollMs?: number;
  /**
   * How long stop() lets running jobs finish before aborting them (signal reason 'shutdown'); default 10,000 ms.
   * An aborted job is released once its handler returns; until then it keeps its lease (docs/RELIABILITY.md).
   */
  graceMs?: number;
  /**
   * Claimed jobs a worker may hold beyond its running ones, so short jobs are claimed and completed in
   * batches. Default 'auto': what its slots start within 25 ms at the mean job time measured so far
   * (concurrency × 25 / mean ms; none before the first job ends), at most max(400, 2 × concurrency). So
   * workers in several processes share a backlog fairly, and no-op jobs still go 400 at a time.
   * Held jobs are leased (and show as running) until they start.
   */
  prefetch?: number | 'auto';
  /** The worker's id, stored as job.processingBy; default host:pid:random. */
  id?: string;
}

interface HandlerBox {
  // Method syntax on purpose: its parameters are bivariant, so a handler typed Job<MyData> fits the map.
  handle(job: Job, ctx: JobContext): unknown;
}
/** Handlers by job name. */
export type Handlers = Record<string, HandlerBox['handle']>;

/** Every option with its default filled in. */
export type WorkerSettings = Required<Omit<WorkerOptions, 'id'>>;

/** What a worker is built from, checked: its id, its handlers and the names they serve, its settings. */
export interface WorkerConfig {
  id: string;
  handlers: Handlers;
  names: string[];
  settings: WorkerSettings;
}

/** Validates handlers and options (ValidationError naming the field otherwise) and fills in the defaults. */
export function resolveWorkerConfig(handlers: Handlers, options: WorkerOptions): WorkerConfig {
  const o = parseInput(workerOptionsSchema, options ?? {}, 'options');
  if (handlers === null || typeof handlers !== 'object' || Object.keys(handlers).length === 0) {
    throw new ValidationError(['handlers must be an object mapping job names to functions, with at least one entry']);
  }
  for (const [name, fn] of Object.entries(handlers)) {
    parseInput(jobNameSchema, name, `handlers[${JSON.stringify(name)}] name`);
    if (typeof fn !== 'function') throw new ValidationError([`handlers[${JSON.stringify(name)}] must be a function (job, ctx) => result, got ${typeof fn}`]);
  }
  return {
    id: o.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    handlers,
    names: Object.keys(handlers),
    settings: {
      concurrency: o.concurrency ?? 1,
      progressFlushMs: o.progressFlushMs ?? 1_000,
      leaseMs: o.leaseMs ?? 30_000,
      pollMs: o.pollMs ?? 1_000,
      graceMs: o.graceMs ?? 10_000,
      prefetch: o.prefetch ?? 'auto',
    },
  };
}
