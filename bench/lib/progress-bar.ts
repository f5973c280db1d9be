/**
 * A progress bar on stderr: redrawn in place on a terminal, one line per step started otherwise (logs, files),
 * so stdout stays free for results.
 */
export class ProgressBar {
  private done = 0;
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = Date.now();

  constructor(private readonly total: number) {}

  /** Shows what is running now. */
  show(label: string): void {
    const width = 28;
    const filled = this.total === 0 ? width : Math.round((this.done / this.total) * width);
    const elapsed = Math.round((Date.now() - this.started) / 1000);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${elapsed}s ${label}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  }

  /** Marks one step done: redraws on a terminal; in a log the next show() says it. */
  step(label: string): void {
    this.done++;
    if (this.tty || this.done === this.total) this.show(label);
  }

  /** Prints a message on its own line without breaking the bar. */
  note(message: string): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${message}\n`);
  }

  finish(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
