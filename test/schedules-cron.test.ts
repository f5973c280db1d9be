import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CronTimes, wallAt } from '../src/schedules/cron-time.ts';

/**
 * The DST rule of docs/schedules.md against an oracle that walks real time minute by minute: a wall minute
 * the pattern names fires at its first occurrence; wall minutes a spring-forward gap skips fire once, at the
 * first minute after the gap. Patterns name minutes and hours (the fields a DST change touches).
 */

// Zones and a DST change in each (spring or autumn, 2026), plus two without DST.
const WINDOWS: [zone: string, around: string][] = [
  ['Europe/Berlin', '2026-03-29T01:00:00Z'], ['Europe/Berlin', '2026-10-25T01:00:00Z'],
  ['America/New_York', '2026-03-08T07:00:00Z'], ['America/New_York', '2026-11-01T06:00:00Z'],
  ['Australia/Sydney', '2026-10-03T16:00:00Z'], ['Australia/Sydney', '2026-04-04T16:00:00Z'],
  ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'], ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
  ['Asia/Kolkata', '2026-06-01T00:00:00Z'], ['UTC', '2026-06-01T00:00:00Z'],
];

type Field = { kind: 'any' } | { kind: 'step'; n: number } | { kind: 'list'; values: number[] };

const field = (max: number) =>
  fc.oneof(
    fc.constant<Field>({ kind: 'any' }),
    fc.integer({ min: 2, max: Math.min(30, max - 1) }).map((n): Field => ({ kind: 'step', n })),
    fc.uniqueArray(fc.integer({ min: 0, max: max - 1 }), { minLength: 1, maxLength: 3 }).map((values): Field => ({ kind: 'list', values })),
  );

const text = (f: Field) => (f.kind === 'any' ? '*' : f.kind === 'step' ? `*/${f.n}` : [...f.values].sort((a, b) => a - b).join(','));
const matches = (f: Field, v: number) => f.kind === 'any' || (f.kind === 'step' ? v % f.n === 0 : f.values.includes(v));

/**
 * The expected fires in (from, to], walking real minutes from 3 h before `from`, so a wall time repeated after
 * `from` is known to have had its first occurrence before it.
 */
function oracle(minute: Field, hour: Field, tz: string, from: number, to: number): number[] {
  const hits = (wall: number) => matches(minute, new Date(wall).getUTCMinutes()) && matches(hour, new Date(wall).getUTCHours());
  const fires: number[] = [];
  const seen = new Set<number>();
  const start = from - 3 * 3_600_000;
  let prevWall = wallAt(start, tz);
  for (let t = start + 60_000; t <= to; t += 60_000) {
    const wall = wallAt(t, tz);
    let fire = false;
    // Wall minutes a gap skipped (the clocks jumped forward past them): they fire here, once.
    for (let w = prevWall + 60_000; w < wall; w += 60_000) if (hits(w) && !seen.has(w)) fire = true;
    if (hits(wall) && !seen.has(wall)) fire = true;
    for (let w = prevWall + 60_000; w <= wall; w += 60_000) seen.add(w);
    if (wall <= prevWall) seen.add(wall); // a repeated wall minute was seen at its first occurrence
    if (fire && t > from) fires.push(t);
    prevWall = wall;
  }
  return fires;
}

test('cron fires across DST changes: each wall time once, a skipped one at the gap end (property, 10 zones)', () => {
  fc.assert(
    fc.property(field(60), field(24), fc.integer({ min: 0, max: WINDOWS.length - 1 }), fc.integer({ min: -720, max: 0 }), (minute, hour, w, shift) => {
      const [tz, around] = WINDOWS[w]!;
      const from = Date.parse(around) + shift * 60_000;
      const to = from + 26 * 3_600_000;
      const cron = new CronTimes(`${text(minute)} ${text(hour)} * * *`, tz);
      const got: number[] = [];
      for (let t = cron.nextAfter(from); t !== null && t <= to; t = cron.nextAfter(t)) got.push(t);
      assert.deepEqual(got.map((t) => new Date(t).toISOString()), oracle(minute, hour, tz, from, to).map((t) => new Date(t).toISOString()),
        `${text(minute)} ${text(hour)} * * * in ${tz} from ${new Date(from).toISOString()}`);
    }),
    { numRuns: 100, seed: 8 },
  );
});
