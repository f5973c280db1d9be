/**
 * Entry point of the `spool` command (bin/spool.js loads it). Maps outcomes to exit statuses:
 * 0 success, 1 a failed operation (its message on stderr), 2 bad usage.
 */
import { CommanderError } from 'commander';
import { ValidationError } from '../index.ts';
import type { CommandContext } from './command-context.ts';
import { buildProgram } from './program.ts';
import { UsageError } from './usage-error.ts';

const context: CommandContext = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  setExitCode: (code) => void (process.exitCode = code),
  env: process.env,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  readStdin: async () => {
    let text = '';
    for await (const chunk of process.stdin.setEncoding('utf8')) text += chunk;
    return text;
  },
};

// `spool ls | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  await buildProgram(context).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander printed its message already. Help and --version exit 0; anything else it reports is bad usage.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof UsageError || error instanceof ValidationError) {
    process.stderr.write(`spool: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`spool: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
