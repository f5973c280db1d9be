/**
 * What every command gets from main: where output goes, the environment, and how to set the exit status.
 * Commands never touch process.stdout or process.env directly, so what they print and read is in one place.
 */
export interface CommandContext {
  /** Writes to stdout: results (tables, --json). */
  out(text: string): void;
  /** Writes to stderr: progress bars, warnings, errors. */
  err(text: string): void;
  setExitCode(code: number): void;
  env: Record<string, string | undefined>;
  /** Whether stdout / stderr are terminals: colour and live redraws only there. */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Reads all of stdin (for `-` arguments). */
  readStdin(): Promise<string>;
}
