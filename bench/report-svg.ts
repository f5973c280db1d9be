import type { BenchResults } from './harness.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A hand-built horizontal bar chart of W3 drain throughput: one bar per system and settings and
 * concurrency, the median as the bar, min–max as a whisker. No chart library.
 */
export function renderSvg(r: BenchResults): string {
  const w3 = r.figures.filter((f) => f.workload === 'W3' && f.metric === 'throughput');
  // A floor is its fastest variant (batch size, overlap): one bar per case, not one per variant tried.
  const fastest = (f: (typeof w3)[number]) =>
    !f.system.startsWith('floor-') || w3.filter((g) => g.system === f.system && g.case === f.case).every((g) => g.median <= f.median);
  const bars = w3
    .filter(fastest)
    .map((f) => ({ ...f, label: `${f.label} · ${f.variant} · ${f.case}`, spool: f.system.startsWith('spool-'), floor: f.system.startsWith('floor-') }));
  const width = 900;
  const left = 330;
  const barH = 18;
  const gap = 6;
  const top = 50;
  const height = top + Math.max(1, bars.length) * (barH + gap) + 40;
  const maxV = Math.max(1, ...bars.map((b) => b.max));
  const x = (v: number) => left + (v / maxV) * (width - left - 90);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">${esc(`W3 drain throughput, jobs/s (median, min–max)${r.quick ? ' — QUICK SMOKE RUN, not a benchmark' : ''}`)}</text>`);
  out.push(`<text x="10" y="40" fill="#555">${esc(`${r.sizes.drainJobs.toLocaleString('en-US')} no-op jobs · ${r.runs} run(s) · ${r.machine.cores} cores · ${r.startedAt.slice(0, 10)}`)}</text>`);
  bars.forEach((b, i) => {
    const y = top + i * (barH + gap);
    const fill = b.spool ? '#2f6fdf' : b.floor ? '#999' : '#e0883a';
    out.push(`<text x="${left - 8}" y="${y + barH - 5}" text-anchor="end">${esc(b.label)}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(b.median) - left).toFixed(1)}" height="${barH}" fill="${fill}"/>`);
    if (b.runs.length > 1) {
      const cy = y + barH / 2;
      out.push(`<line x1="${x(b.min).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${cy}" y2="${cy}" stroke="#000" stroke-width="1.5"/>`);
    }
    out.push(`<text x="${(x(b.max) + 6).toFixed(1)}" y="${y + barH - 5}">${esc(Math.round(b.median).toLocaleString('en-US') + (b.capped ? ' (hit the time limit)' : ''))}</text>`);
  });
  const ly = height - 18;
  out.push(`<rect x="10" y="${ly - 10}" width="12" height="12" fill="#2f6fdf"/><text x="28" y="${ly}">Spool</text>`);
  out.push(`<rect x="90" y="${ly - 10}" width="12" height="12" fill="#e0883a"/><text x="108" y="${ly}">peers</text>`);
  out.push(`<rect x="170" y="${ly - 10}" width="12" height="12" fill="#999"/><text x="188" y="${ly}">raw-SQL floor</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
