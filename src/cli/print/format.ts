/** A duration for people: 850ms, 4.2s, 3m 05s, 2h 10m, 3d 4h. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)}ms`;
  if (abs < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const s = Math.round(abs / 1_000);
  const sign = ms < 0 ? '-' : '';
  if (s < 3_600) return `${sign}${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${sign}${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
  const hours = Math.floor((s % 86_400) / 3_600);
  return `${sign}${Math.floor(s / 86_400)}d${hours > 0 ? ` ${hours}h` : ''}`;
}

/** When, relative to now: "12s ago", "in 3m 00s". */
export function formatWhen(date: Date | null, now: number): string {
  if (date === null) return '-';
  const delta = date.getTime() - now;
  if (Math.abs(delta) < 1_000) return 'now';
  return delta < 0 ? `${formatDuration(-delta)} ago` : `in ${formatDuration(delta)}`;
}

/** One line of at most `max` characters, with … when cut. */
export function truncate(text: string, max: number): string {
  const line = text.replace(/\s*\n\s*/g, ' ');
  return line.length <= max ? line : `${line.slice(0, Math.max(0, max - 1))}…`;
}

/** A JSON value on one line, cut to `max` characters ('-' for null or undefined). */
export function shortJson(value: unknown, max: number): string {
  if (value === null || value === undefined) return '-';
  return truncate(JSON.stringify(value), max);
}

/** A count with thousands separators: 100,000. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
