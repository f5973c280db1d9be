import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError } from '../usage-error.ts';

/** Lines of an NDJSON input that can be read more than once (a check pass, then an add pass). */
export interface LineSource {
  /** Where the lines come from, for messages. */
  label: string;
  lines(): AsyncIterable<string>;
}

/**
 * A file is streamed afresh on each pass, so memory stays flat whatever its size; stdin (`-`) cannot be
 * read twice, so its lines are kept.
 */
export async function openLineSource(path: string, readStdin: () => Promise<string>): Promise<LineSource> {
  if (path === '-') {
    const lines = (await readStdin()).split(/\r?\n/);
    return { label: 'stdin', lines: async function* () { yield* lines; } };
  }
  if (!existsSync(path)) throw new UsageError(`--file ${path}: no such file`);
  if (!statSync(path).isFile()) throw new UsageError(`--file ${path}: not a file`);
  return {
    label: path,
    lines: () => createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity }),
  };
}
