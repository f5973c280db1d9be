import { EventEmitter } from 'node:events';

/**
 * Signals from a queue to the workers of this process, no database in between: jobs became runnable at a
 * time (added or retried); a running job was cancelled or deleted here, so its worker aborts it now rather
 * than at its next tick; schedules were declared or resumed here (workers read them again now). The queue owns one and emits; each worker listens while it runs.
 */
export type LocalSignals = EventEmitter<{ runnable: [runAt: number]; cancel: [id: string]; delete: [id: string]; schedules: [] }>;

/** A fresh signal bus; any number of workers may listen. */
export function createLocalSignals(): LocalSignals {
  const signals: LocalSignals = new EventEmitter();
  signals.setMaxListeners(0);
  return signals;
}
