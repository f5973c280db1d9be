export interface Minute {
  minute: string;
  completed: number;
  failed: number;
}

/** Completed and failed per minute over the last hour: stacked SVG bars (no library, no inline style). */
export function ThroughputChart({ minutes }: { minutes: Minute[] }) {
  const width = 720;
  const height = 160;
  const pad = { left: 36, bottom: 20, top: 8 };
  const max = Math.max(1, ...minutes.map((m) => m.completed + m.failed));
  const slot = (width - pad.left) / Math.max(1, minutes.length);
  const plot = height - pad.bottom - pad.top;
  const y = (n: number) => (n / max) * plot;
  const total = minutes.reduce((s, m) => ({ completed: s.completed + m.completed, failed: s.failed + m.failed }), { completed: 0, failed: 0 });
  const label = (iso: string | undefined) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '');
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Last hour: ${total.completed} completed, ${total.failed} failed`}>
        <line class="axis" x1={pad.left} x2={width} y1={height - pad.bottom} y2={height - pad.bottom} />
        <text class="tick" x={pad.left - 4} y={pad.top + 8} text-anchor="end">
          {max}
        </text>
        <text class="tick" x={pad.left - 4} y={height - pad.bottom} text-anchor="end">
          0
        </text>
        {minutes.map((m, i) => {
          const x = pad.left + i * slot + 1;
          const w = Math.max(1, slot - 2);
          const hc = y(m.completed);
          const hf = y(m.failed);
          const base = height - pad.bottom;
          return (
            <g key={m.minute}>
              <title>{`${label(m.minute)}: ${m.completed} completed, ${m.failed} failed`}</title>
              {hc > 0 && <rect class="bar-completed" x={x} width={w} y={base - hc} height={hc} />}
              {hf > 0 && <rect class="bar-failed" x={x} width={w} y={base - hc - hf} height={hf} />}
            </g>
          );
        })}
        <text class="tick" x={pad.left} y={height - 4}>
          {label(minutes[0]?.minute)}
        </text>
        <text class="tick" x={width} y={height - 4} text-anchor="end">
          {label(minutes[minutes.length - 1]?.minute)}
        </text>
      </svg>
      <figcaption>
        <span class="key key-completed" /> {total.completed.toLocaleString()} completed <span class="key key-failed" /> {total.failed.toLocaleString()} failed, per minute, last hour
      </figcaption>
    </figure>
  );
}
