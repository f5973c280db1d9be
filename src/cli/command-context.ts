/** What every command gets from main: where output goes and how to set the exit status (tests replace both). */
export interface CommandContext {
  out(text: string): void;
  setExitCode(code: number): void;
}
