import { EventEmitter } from 'node:events';
import type { NameControl } from '../limits/limits.ts';

/**
 * Signals from a queue to the workers of this process, no database in between: jobs became runnable at a
 * time (added or retried); a running job was cancelled or deleted here, so its worker aborts it now rather
 * than at its next tick; a name's flow control (pause, limits) changed here, so workers re-read it now;
 * schedules were declared or resumed here (workers read them again now). The queue owns one and emits; each worker listens while it runs.
 */
export type LocalSignals = EventEmitter<{ runnable: [runAt: number]; cancel: [id: string]; delete: [id: string]; controls: [control: NameControl]; schedules: [] }>;

/** A fresh signal bus; any number of workers may listen. */
export function createLocalSignals(): LocalSignals {
  const signals: LocalSignals = new EventEmitter();
  signals.setMaxListeners(0);
  return signals;
}
