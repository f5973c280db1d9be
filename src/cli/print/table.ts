import { type Palette, visibleLength } from './color.ts';

/** A column: its heading, and whether numbers line up on the right. */
export interface Column {
  head: string;
  align?: 'left' | 'right';
}

/**
 * Aligned columns separated by two spaces, heading first (bold when colour is on). Cells may carry colour:
 * widths count what is visible. The last column is not padded, so lines carry no trailing spaces.
 */
export function renderTable(columns: Column[], rows: string[][], p: Palette): string {
  const widths = columns.map((c, i) => Math.max(c.head.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - visibleLength(cell));
        if (i === cells.length - 1 && columns[i]!.align !== 'right') return cell;
        return columns[i]!.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ');
  return [p.bold(line(columns.map((c) => c.head))), ...rows.map(line)].join('\n') + '\n';
}

/** Label / value lines with the labels padded to one width (what `spool show` prints). */
export function renderFields(fields: [label: string, value: string][], p: Palette): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${p.dim(label.padEnd(width))}  ${value.replace(/\n/g, `\n${' '.repeat(width + 2)}`)}`).join('\n') + '\n';
}
