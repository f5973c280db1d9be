import type { CommandContext } from '../command-context.ts';
import { stderrPalette } from '../output.ts';
import { formatCount } from './format.ts';

/** A live line on stderr; a no-op off a terminal (logs and pipes get the summary only). */
export interface ProgressBar {
  /** Sets how far along it is; redrawn at most every 100 ms. */
  update(done: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

const WIDTH = 30;
const REDRAW_MS = 100;

/** A bar of `total` (or a plain counter when the total is not known yet). */
export function progressBar(ctx: CommandContext, label: string, total?: number): ProgressBar {
  if (!ctx.stderrIsTTY) return { update: () => {}, finish: () => {} };
  const p = stderrPalette(ctx);
  let done = 0;
  let drawnAt = 0;
  const draw = () => {
    drawnAt = Date.now();
    if (total === undefined || total === 0) {
      ctx.err(`\r${label} ${formatCount(done)}\u001b[K`);
      return;
    }
    const filled = Math.round((Math.min(done, total) / total) * WIDTH);
    const percent = String(Math.floor((done / total) * 100)).padStart(3);
    ctx.err(`\r${label} ${p.cyan('█'.repeat(filled))}${p.dim('░'.repeat(WIDTH - filled))} ${percent}% ${formatCount(done)}/${formatCount(total)}\u001b[K`);
  };
  return {
    update(n) {
      done = n;
      if (Date.now() - drawnAt >= REDRAW_MS) draw();
    },
    finish() {
      draw();
      ctx.err('\n');
    },
  };
}
