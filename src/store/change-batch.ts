import type { WatchEvent } from '../events.ts';
import type { Job, JobStatus } from '../job.ts';
import type { JobChangeType, WatchInterest } from './store.ts';

/** One change as a feed reports it, before the job is read: its type, the job's id, its name when known. */
export interface ChangeNote {
  type: JobChangeType;
  id: string;
  name?: string | null;
}

/** The statuses a job may show right after a change of each type. */
const SHOWS: Record<Exclude<JobChangeType, 'deleted'>, readonly JobStatus[]> = {
  // A job added straight to an idle worker of its process is inserted running.
  added: ['pending', 'running'],
  started: ['running'],
  progress: ['pending', 'running'],
  retrying: ['pending'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

/**
 * Turns the notes of one batch (in the order they happened) and the jobs read for them into watch events.
 * Only each job's latest note counts, and only when the job as read is in the state that note says: a
 * 'started' note for a job that has since completed is dropped, because the 'completed' note that follows it
 * (in this batch or the next) reports the job as it is. So a watcher never sees a job's states out of order
 * and never sees a state twice under two types. A job read as missing is reported only by its 'deleted' note.
 */
export function eventsOf(notes: readonly ChangeNote[], jobs: ReadonlyMap<string, Job>): WatchEvent[] {
  const latest = new Map<string, ChangeNote>();
  for (const note of notes) {
    latest.delete(note.id); // re-inserted, so the map keeps the order of each job's latest change
    latest.set(note.id, note);
  }
  const events: WatchEvent[] = [];
  for (const note of latest.values()) {
    if (note.type === 'deleted') {
      if (!jobs.has(note.id)) events.push({ type: 'deleted', job: { id: note.id, name: note.name ?? null } });
      continue;
    }
    const job = jobs.get(note.id);
    if (job && SHOWS[note.type].includes(job.status)) events.push({ type: note.type, job });
  }
  return events;
}

/** True when a watcher with this interest wants a job of this id and name. */
export function wants(interest: WatchInterest, id: string, name: string | null | undefined): boolean {
  return interest.all || interest.ids.has(id) || (name != null && interest.names.has(name));
}

/** The union of several subscribers' interests. */
export function unionInterest(interests: Iterable<WatchInterest>): WatchInterest {
  const names = new Set<string>();
  const ids = new Set<string>();
  let all = false;
  for (const i of interests) {
    all ||= i.all;
    for (const n of i.names) names.add(n);
    for (const id of i.ids) ids.add(id);
  }
  return { all, names, ids };
}
