import { EventEmitter } from 'node:events';
import type { Job } from './job.ts';
import type { JobChangeType } from './store/store.ts';

/** What happened to a job. 'progress' fires at every ctx.progress() call in this process, with no write. */
export type QueueEventType = 'added' | 'started' | 'progress' | 'retrying' | 'completed' | 'failed' | 'cancelled';

/** Every event type, for validating queue.on() (a typo like 'complete' would otherwise never fire). */
export const QUEUE_EVENT_TYPES: readonly QueueEventType[] = ['added', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled'];

/** The payload of every queue event: the job as it is after the change. */
export interface QueueEvent {
  type: QueueEventType;
  job: Job;
}

/** A listener of queue events. */
export type QueueListener = (event: QueueEvent) => void;

/**
 * The typed in-process emitter behind queue.on(). A listener that throws is reported to the logger
 * hook and never breaks the worker that emitted.
 */
export class QueueEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (error: unknown, event: QueueEvent) => void) {
    this.emitter.setMaxListeners(0);
  }

  on(type: QueueEventType, listener: QueueListener): void {
    this.emitter.on(type, listener);
  }

  off(type: QueueEventType, listener: QueueListener): void {
    this.emitter.off(type, listener);
  }

  once(type: QueueEventType, listener: QueueListener): void {
    this.emitter.once(type, listener);
  }

  /** True when someone listens: lets emitters skip building events nobody reads. */
  has(type: QueueEventType): boolean {
    return this.emitter.listenerCount(type) > 0;
  }

  emit(type: QueueEventType, job: Job): void {
    if (!this.has(type)) return;
    const event: QueueEvent = { type, job };
    for (const listener of this.emitter.listeners(type) as QueueListener[]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}

/** A job that was deleted: only what the change feed still knows of it. */
export interface DeletedJob {
  id: string;
  /** The job's name; null when the feed could not tell (a bulk delete of several names, on PostgreSQL). */
  name: string | null;
}

/**
 * One event of `queue.watch()`: a change made by any process, with the job as read after it. Every event's
 * job is in the state its type says (a 'completed' event carries a completed job); when a job changed
 * several times between two reads, watchers see its latest change only.
 */
export type WatchEvent =
  | { type: Exclude<JobChangeType, 'deleted'>; job: Job }
  | { type: 'deleted'; job: DeletedJob };
