/**
 * Colour only where a person reads it: on a terminal, unless NO_COLOR is set (no-color.org: any non-empty
 * value) or TERM is dumb; FORCE_COLOR (anything but 0) turns it on anywhere.
 */
export function colorEnabled(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

/** Text styles; each is the identity when colour is off. */
export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  blue(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function palette(enabled: boolean): Palette {
  if (!enabled) {
    const same = (s: string) => s;
    return { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same, blue: same };
  }
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39), blue: sgr(34, 39) };
}

/** A job status in its colour: failed red, completed green, running cyan, cancelled dim. */
export function paintStatus(p: Palette, status: string): string {
  switch (status) {
    case 'failed':
      return p.red(status);
    case 'completed':
      return p.green(status);
    case 'running':
      return p.cyan(status);
    case 'cancelled':
      return p.dim(status);
    default:
      return status;
  }
}

// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI = /\u001b\[[0-9;]*m/g;

/** Characters a string takes on screen, escape codes left out. */
export function visibleLength(s: string): number {
  return s.replace(ANSI, '').length;
}
