/** Display helpers: everything user-supplied is rendered as text by Preact, never as HTML. */

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString();
}

/** "12 s ago", "3 min ago": for the last claim. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function duration(from: string | null, to: string | null): string {
  if (!from || !to) return '—';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

export function json(value: unknown, indent = 2): string {
  if (value === undefined) return '—';
  try {
    return JSON.stringify(value, null, indent) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One-line preview of data for a table cell, cut at `max` characters. */
export function preview(value: unknown, max = 80): string {
  const s = json(value, 0);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * A percentage from whatever a handler passed to ctx.progress(): a number (0–1 or 0–100), or an object with
 * `percent`, or a count and a total (done/total, current/total, step/of, expert/of). Undefined: no bar.
 */
export function percent(progress: unknown): number | undefined {
  const clamp = (n: number) => Math.max(0, Math.min(100, n));
  const n = num(progress);
  if (n !== undefined) return clamp(n <= 1 ? n * 100 : n);
  if (progress && typeof progress === 'object') {
    const p = progress as Record<string, unknown>;
    const pct = num(p.percent) ?? num(p.pct);
    if (pct !== undefined) return clamp(pct);
    const total = num(p.total) ?? num(p.of);
    const done = num(p.done) ?? num(p.current) ?? num(p.completed) ?? num(p.step) ?? num(p.expert);
    if (total !== undefined && total > 0 && done !== undefined) return clamp((done / total) * 100);
  }
  return undefined;
}
