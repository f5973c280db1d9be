import { Cron } from 'croner';

/**
 * Cron fire times in an IANA timezone, with one rule across daylight-saving changes: every wall time the
 * pattern names fires exactly once.
 * - A wall time that does not exist (clocks spring forward over it) fires once, at the first instant after
 *   the gap (the next valid minute): 02:30 in Europe/Berlin on 2026-03-29 fires at 03:00 CEST; several
 *   missing wall times of one gap (02:00 and 02:30 of `*\/30 2 * * *`) fire once together at 03:00.
 * - A wall time that happens twice (clocks fall back) fires at its first occurrence only.
 *
 * Why not croner's own timezone mode: measured with croner 11.0.1 (test/schedules-dst.test.ts), it moved
 * `30 2 * * *` to 03:00 on spring-forward day but skipped `*\/30 2 * * *` that day entirely, and fired
 * `*\/30 2 * * *` four times on fall-back day (both 02:00s, both 02:30s) but `30 2 * * *` once. Here croner
 * only matches the pattern against wall times (it runs in UTC, where no wall time is missing or repeated);
 * this file maps wall times to instants.
 */

/** Wall-clock parts read in a zone, cached per zone (building a DateTimeFormat costs ~50 µs; using one ~2 µs). */
const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(tz: string): Intl.DateTimeFormat {
  let format = formats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formats.set(tz, format);
  }
  return format;
}

/** True when `tz` is an IANA zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    formatOf(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall time in `tz` at instant `t`, as epoch ms of the same reading in UTC ("fake UTC"), to the second. */
export function wallAt(t: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatOf(tz).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall + (((t % 1000) + 1000) % 1000);
}

/** The zone's offset from UTC at instant `t`, in ms (east positive). */
function offsetAt(t: number, tz: string): number {
  return wallAt(t, tz) - t;
}

/**
 * The instant a wall time fires at: its first occurrence, or, for a wall time skipped by a spring-forward
 * gap, the instant the gap ends. Assumes at most one offset change within ±1 day (true of every zone).
 */
export function instantOfWall(wall: number, tz: string): number {
  const before = offsetAt(wall - 86_400_000, tz);
  const after = offsetAt(wall + 86_400_000, tz);
  const candidates = [wall - before, wall - after].filter((t) => wallAt(t, tz) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the transition lies between wall - after and wall - before; find its first instant (1 ms precision).
  let lo = wall - after; // still on the old offset
  let hi = wall - before; // already on the new offset
  if (offsetAt(lo, tz) === after) return lo;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, tz) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** A compiled cron pattern in a zone: the fire instants after a given one. */
export class CronTimes {
  private readonly cron: Cron;

  /** Throws croner's TypeError for a bad pattern (the caller turns it into a ValidationError). */
  constructor(pattern: string, private readonly tz: string) {
    this.cron = new Cron(pattern, { timezone: 'Etc/UTC', paused: true });
  }

  /**
   * The first fire strictly after instant `after`, or null when the pattern never fires again. Starts from the
   * wall time at `after`; repeated wall times whose first occurrence is at or before `after` are passed over
   * (at most one DST overlap's worth of candidates).
   */
  nextAfter(after: number): number | null {
    let wall = wallAt(after, this.tz);
    for (let guard = 0; guard < 100_000; guard++) {
      const next = this.cron.nextRun(new Date(wall));
      if (next === null) return null;
      wall = next.getTime();
      const t = instantOfWall(wall, this.tz);
      if (t > after) return t;
    }
    return null;
  }
}
