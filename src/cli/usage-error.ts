/**
 * Bad usage of the command line (a flag's value, a missing argument, a file that does not exist): main
 * prints the message and exits 2. A failed operation exits 1 instead.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
