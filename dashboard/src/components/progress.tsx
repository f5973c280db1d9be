import type { JobStatus } from '../api.ts';
import { json, percent } from '../format.ts';

/** A job's progress bar: width set through the CSSOM (allowed by the CSP; a style attribute in HTML is not). */
export function Progress({ value, status }: { value: unknown; status: JobStatus }) {
  const pct = status === 'completed' ? 100 : percent(value);
  if (pct === undefined) return <span class="muted">{value === null || value === undefined ? '—' : json(value, 0)}</span>;
  const label = `${Math.round(pct)}%`;
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)} title={json(value, 0)} data-status={status}>
      <div class="progress-track">
        <div class="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span class="progress-label">{label}</span>
    </div>
  );
}

export function StatusBadge({ status }: { status: JobStatus }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}
