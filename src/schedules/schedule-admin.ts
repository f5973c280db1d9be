import type { Clock } from '../clock.ts';
import { SpoolError } from '../errors.ts';
import { toJsonText } from '../json-payload.ts';
import type { ScheduleRow, Store } from '../store/store.ts';
import type { LocalSignals } from '../worker/local-signals.ts';
import { specOf } from './fire-plan.ts';
import { checkKey, checkSchedule, FireTimes, type ScheduleInfo, type ScheduleOptions, type ScheduleSpec } from './spec.ts';

/** No schedule has this key. */
export class ScheduleNotFoundError extends SpoolError {
  readonly key: string;
  constructor(key: string) {
    super('SCHEDULE_NOT_FOUND', `schedule ${JSON.stringify(key)} does not exist (never declared, or removed); queue.listSchedules() lists them`);
    this.key = key;
  }
}

/** What the schedule methods of Queue need. */
export interface ScheduleAdminDeps {
  store: Store;
  clock: Clock;
  signals: LocalSignals;
  maxPayloadBytes: number;
  /** Adds one job as queue.add() does (so triggerSchedule's job is announced and handed off like any other). */
  add: (name: string, data: unknown, options: Record<string, unknown>) => Promise<string>;
}

/** The schedule methods of Queue (queue.schedule, listSchedules, …): validation and policy; SQL is the store's. */
export class ScheduleAdmin {
  constructor(private readonly deps: ScheduleAdminDeps) {}

  /** Creates or updates a schedule (idempotent); one statement. */
  async schedule(key: string, spec: ScheduleSpec, name: string, data: unknown, options: ScheduleOptions = {}): Promise<ScheduleInfo> {
    const c = checkSchedule(key, spec, name, options);
    const dataJson = toJsonText(data, 'data', this.deps.maxPayloadBytes);
    const { missed = 'skip', ...jobOptions } = c.options;
    const now = this.deps.clock.now();
    const cron = 'cron' in c.spec ? c.spec.cron : null;
    const row: ScheduleRow = {
      key: c.key, cron, tz: 'cron' in c.spec ? (c.spec.tz ?? null) : null, every: 'every' in c.spec ? c.spec.every : null,
      name: c.name, dataJson, optionsJson: JSON.stringify(jobOptions), missed, paused: false, anchorAt: now, firedThrough: now,
      lastRunAt: null, nextRunAt: new FireTimes(c.spec, now).nextAfter(now), revision: 1,
    };
    const saved = await this.deps.store.scheduleUpsert({ row, now });
    this.deps.signals.emit('schedules');
    return toInfo(saved);
  }

  /** Every schedule, by key; one statement. */
  async list(): Promise<ScheduleInfo[]> {
    return (await this.deps.store.schedules({})).map(toInfo);
  }

  /** Stops firing (fires while paused are not run later); one statement. */
  async pause(key: string): Promise<ScheduleInfo> {
    const k = checkKey(key);
    const row = await this.deps.store.schedulePause({ key: k, paused: true, now: this.deps.clock.now(), nextRunAt: null });
    if (!row) throw new ScheduleNotFoundError(k);
    return toInfo(row);
  }

  /** Fires again from now on; two statements (read the spec, then resume with the next fire time). */
  async resume(key: string): Promise<ScheduleInfo> {
    const k = checkKey(key);
    const [current] = await this.deps.store.schedules({ key: k });
    if (!current) throw new ScheduleNotFoundError(k);
    const now = this.deps.clock.now();
    const next = new FireTimes(specOf(current), current.anchorAt).nextAfter(Math.max(now, current.firedThrough));
    const row = await this.deps.store.schedulePause({ key: k, paused: false, now, nextRunAt: next });
    if (!row) throw new ScheduleNotFoundError(k);
    this.deps.signals.emit('schedules');
    return toInfo(row);
  }

  /** Adds the schedule's job now, outside its fire times (paused or not); returns the job's id. */
  async trigger(key: string): Promise<string> {
    const k = checkKey(key);
    const [row] = await this.deps.store.schedules({ key: k });
    if (!row) throw new ScheduleNotFoundError(k);
    return this.deps.add(row.name, JSON.parse(row.dataJson), JSON.parse(row.optionsJson) as Record<string, unknown>);
  }

  /** Removes the schedule (jobs it added stay); one statement. */
  async remove(key: string): Promise<void> {
    const k = checkKey(key);
    if (!(await this.deps.store.scheduleDelete({ key: k }))) throw new ScheduleNotFoundError(k);
  }
}

function toInfo(row: ScheduleRow): ScheduleInfo {
  return {
    key: row.key,
    ...(row.cron !== null ? { cron: row.cron, tz: row.tz ?? 'UTC' } : { every: row.every! }),
    name: row.name,
    data: JSON.parse(row.dataJson),
    options: JSON.parse(row.optionsJson) as ScheduleInfo['options'],
    missed: row.missed,
    nextRunAt: row.nextRunAt === null ? null : new Date(row.nextRunAt),
    lastRunAt: row.lastRunAt === null ? null : new Date(row.lastRunAt),
    paused: row.paused,
  };
}
