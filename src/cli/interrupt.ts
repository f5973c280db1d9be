/**
 * Resolves with the signal's name on the first SIGINT or SIGTERM (Ctrl-C, or a supervisor), for commands that
 * run until interrupted (--watch, --follow, --wait). `stop()` removes the handlers when the command ends first.
 */
export function untilInterrupted(): { signal: Promise<NodeJS.Signals>; stop(): void } {
  let handler!: (signal: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((resolve) => (handler = resolve));
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signal,
    stop() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Exit status of a command stopped by a signal: 128 + its number, as shells report it (SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}
