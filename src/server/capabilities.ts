import type { Queue } from '../queue.ts';
import { HttpError } from './http-errors.ts';

/**
 * Queue methods of API.md that other parts of Spool provide (flow control and schedules, issue #8). The
 * server's routes for them exist whatever this build has; they call the methods when the queue has them and
 * answer 501 otherwise, so the routes light up as the methods land, with no change here.
 */
export interface FlowControl {
  pause(name: string): Promise<unknown>;
  resume(name: string): Promise<unknown>;
  setLimits(name: string, limits: unknown): Promise<unknown>;
}

export interface ScheduleControl {
  listSchedules(): Promise<unknown[]>;
  pauseSchedule(key: string): Promise<unknown>;
  resumeSchedule(key: string): Promise<unknown>;
  triggerSchedule(key: string): Promise<unknown>;
  unschedule(key: string): Promise<unknown>;
}

const FLOW: (keyof FlowControl)[] = ['pause', 'resume', 'setLimits'];
const SCHEDULES: (keyof ScheduleControl)[] = ['listSchedules', 'pauseSchedule', 'resumeSchedule', 'triggerSchedule', 'unschedule'];

const has = (queue: Queue, methods: string[]) => methods.every((m) => typeof (queue as unknown as Record<string, unknown>)[m] === 'function');

/** What this queue can do beyond the core, for GET /api/features. */
export function capabilities(queue: Queue): { flowControl: boolean; schedules: boolean } {
  return { flowControl: has(queue, FLOW), schedules: has(queue, SCHEDULES) };
}

export function flowControl(queue: Queue): FlowControl {
  if (!has(queue, FLOW)) throw notHere('pausing, resuming and limiting job names');
  return queue as unknown as FlowControl;
}

export function scheduleControl(queue: Queue): ScheduleControl {
  if (!has(queue, SCHEDULES)) throw notHere('schedules');
  return queue as unknown as ScheduleControl;
}

function notHere(what: string): HttpError {
  return new HttpError(501, 'NOT_IMPLEMENTED', `this version of Spool has no ${what}; GET /api/features says what it has`);
}
