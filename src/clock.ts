/** Where Spool reads the time: injectable so tests set it instead of sleeping (backoff, leases, delays). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
