import type { Job } from '../job.ts';
import type { Attempt } from './attempt.ts';

/**
 * The jobs a worker holds a lease on: running attempts, claimed jobs waiting in the prefetch buffer (in claim
 * order), and slots promised to jobs an add() in this process is handing over. Every part of the worker
 * reads these; the runner moves jobs from the buffer into attempts.
 */
export class HeldJobs {
  /** Running attempts by job id. */
  readonly attempts = new Map<string, Attempt>();
  /** Claimed, not yet started (prefetch), in claim order. */
  buffer: Job[] = [];
  /** Slots promised to jobs being handed over by add() in this process. */
  reserved = 0;

  /** Running, buffered and reserved: what counts against concurrency + prefetch. */
  get size(): number {
    return this.attempts.size + this.buffer.length + this.reserved;
  }

  /** The ids whose leases the tick extends: running and buffered. */
  leasedIds(): string[] {
    return [...this.attempts.keys(), ...this.buffer.map((job) => job.id)];
  }

  /** Removes a job from the prefetch buffer; returns it if it was there. */
  unbuffer(id: string): Job | undefined {
    const index = this.buffer.findIndex((job) => job.id === id);
    return index < 0 ? undefined : this.buffer.splice(index, 1)[0];
  }
}
