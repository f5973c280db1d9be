/**
 * Entry point of the `spool` command (bin/spool.js loads it). Maps outcomes to exit statuses:
 * 0 success, 1 a failed operation (its message on stderr), 2 bad usage.
 */
import { CommanderError } from 'commander';
import type { CommandContext } from './command-context.ts';
import { buildProgram } from './program.ts';

const context: CommandContext = {
  out: (text) => void process.stdout.write(text),
  setExitCode: (code) => void (process.exitCode = code),
};

try {
  await buildProgram(context).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and --version exit 0; everything else commander reports is bad usage.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`spool: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
