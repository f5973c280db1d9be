import type { CommandContext } from './command-context.ts';
import { colorEnabled, type Palette, palette } from './print/color.ts';

/** Styles for what goes to stdout: colour only on a terminal, never with NO_COLOR. */
export function stdoutPalette(ctx: CommandContext): Palette {
  return palette(colorEnabled(ctx.stdoutIsTTY, ctx.env));
}

/** Styles for what goes to stderr (progress bars, warnings). */
export function stderrPalette(ctx: CommandContext): Palette {
  return palette(colorEnabled(ctx.stderrIsTTY, ctx.env));
}

/** Machine-readable output: one JSON document on stdout (dates as ISO strings). */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.out(`${JSON.stringify(value, null, 2)}\n`);
}
