/** Where Spool reports what it cannot throw (a failed tick, a lost connection). Replace it to route logs. */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** The default: quiet except warnings and errors, which go to stderr. */
export const defaultLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, context) => console.warn(`[spool] ${message}`, context ?? ''),
  error: (message, context) => console.error(`[spool] ${message}`, context ?? ''),
};
