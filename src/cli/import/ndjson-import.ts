import { type BulkJob, type JobOptions, type Queue, StoreError, ValidationError } from '../../index.ts';
import type { LineSource } from './ndjson-source.ts';

/** A line that was not added, and why. Lines count from 1. */
export interface RejectedLine {
  line: number;
  reason: string;
}

/** What an import did. */
export interface ImportSummary {
  /** Lines holding a job (blank lines are skipped, not counted). */
  jobs: number;
  added: number;
  rejected: RejectedLine[];
}

export interface ImportOptions {
  /** With a name, each line is one job's data; without, each line is `{ name, data?, options? }`. */
  name?: string;
  /** Options for every job; a line's own `options` override them. */
  options: JobOptions;
  /** Called as lines are checked and as jobs are added (for a progress bar). */
  onChecked?: (lines: number) => void;
  onAdded?: (added: number, of: number) => void;
}

/**
 * Jobs per addBulk(): one statement and one transaction each, short enough that workers' claims are never
 * held up behind the import for long (the same bound as the bulk actions: ≤ 1,000 rows per statement).
 */
export const IMPORT_CHUNK = 1_000;

const LINE_FIELDS = new Set(['name', 'data', 'options']);

/**
 * Imports NDJSON in two passes. The first checks every line as addBulk() would (no statement); the second
 * adds only the lines that passed, in chunks of IMPORT_CHUNK. So a bad line is reported with its number and
 * never stops the import, and nothing of it is written. A chunk the database refuses (something only the
 * database can see, like a character PostgreSQL cannot store) is split in halves until the refused lines are
 * found, so they too are reported one by one while their neighbours are added. A database that stops
 * answering ends the import: the chunks added so far stay added, and the error says which line it stopped at.
 */
export async function importNdjson(queue: Queue, source: LineSource, o: ImportOptions): Promise<ImportSummary> {
  const rejected = new Map<number, string>();
  let jobs = 0;
  let lineNo = 0;
  let batch: { line: number; entry: BulkJob }[] = [];
  const checkBatch = () => {
    const problems = queue.checkJobs(batch.map((b) => b.entry));
    problems.forEach((issues, i) => issues && rejected.set(batch[i]!.line, issues.join('; ')));
    batch = [];
  };
  for await (const text of source.lines()) {
    lineNo++;
    if (text.trim() === '') continue;
    jobs++;
    const parsed = parseLine(text, o);
    if (typeof parsed === 'string') rejected.set(lineNo, parsed);
    else batch.push({ line: lineNo, entry: parsed });
    if (batch.length >= IMPORT_CHUNK) checkBatch();
    if (lineNo % 1_000 === 0) o.onChecked?.(lineNo);
  }
  checkBatch();
  o.onChecked?.(lineNo);

  const good = jobs - rejected.size;
  let added = 0;
  lineNo = 0;
  let chunk: { line: number; entry: BulkJob }[] = [];
  const flush = async () => {
    added += await addChunk(queue, chunk, rejected);
    chunk = [];
    o.onAdded?.(added, good);
  };
  for await (const text of source.lines()) {
    lineNo++;
    if (text.trim() === '' || rejected.has(lineNo)) continue;
    const parsed = parseLine(text, o);
    // The file changed between the passes: judge the line as it reads now.
    if (typeof parsed === 'string') rejected.set(lineNo, parsed);
    else chunk.push({ line: lineNo, entry: parsed });
    if (chunk.length >= IMPORT_CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
  return { jobs, added, rejected: [...rejected].map(([line, reason]) => ({ line, reason })).sort((a, b) => a.line - b.line) };
}

/** Adds a chunk; on a refusal only the database could make, halves it until the refused lines are isolated. */
async function addChunk(queue: Queue, chunk: { line: number; entry: BulkJob }[], rejected: Map<number, string>): Promise<number> {
  if (chunk.length === 0) return 0;
  try {
    return (await queue.addBulk(chunk.map((c) => c.entry))).length;
  } catch (error) {
    if (!refusedData(error)) {
      const first = chunk[0]!.line;
      throw new Error(`the import stopped at line ${first} (${rejected.size} lines rejected before it): ${(error as Error).message}`, { cause: error });
    }
    if (chunk.length === 1) {
      rejected.set(chunk[0]!.line, (error as Error).message);
      return 0;
    }
    const half = Math.ceil(chunk.length / 2);
    return (await addChunk(queue, chunk.slice(0, half), rejected)) + (await addChunk(queue, chunk.slice(half), rejected));
  }
}

/**
 * Whether the database refused the data itself (and so refuses it the same way again): a ValidationError,
 * or a PostgreSQL "data exception" (SQLSTATE class 22: bad characters, out-of-range dates). Lost connections
 * and the like are not: splitting would only repeat them.
 */
function refusedData(error: unknown): boolean {
  if (error instanceof ValidationError) return true;
  const code = error instanceof StoreError ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'string' && code.startsWith('22');
}

/** One line as an addBulk() entry, or why it cannot be one. */
function parseLine(text: string, o: ImportOptions): BulkJob | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (o.name !== undefined) return { name: o.name, data: value, options: o.options };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `must be an object { "name": …, "data": …, "options": … } (or give a job name to spool add --file, to read each line as data); got ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !LINE_FIELDS.has(k));
  if (unknown.length > 0) return `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; a line is { "name", "data", "options" }`;
  if (typeof record.name !== 'string') return `"name" must be a string (the job's name), got ${record.name === undefined ? 'nothing' : JSON.stringify(record.name)}`;
  const options = record.options;
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    return `"options" must be an object like { "priority": 5, "delay": 1000 }, got ${JSON.stringify(options)}`;
  }
  const own = { ...(options as Record<string, unknown> | undefined) };
  // JSON has no dates: runAt comes as an ISO string.
  if (typeof own.runAt === 'string') {
    const at = new Date(own.runAt);
    if (Number.isNaN(at.getTime())) return `options.runAt must be an ISO date like "2030-01-01T09:00:00Z", got ${JSON.stringify(own.runAt)}`;
    own.runAt = at;
  }
  const merged = { ...o.options, ...own } as JobOptions;
  // A line's own runAt or delay replaces the flag's other one; the two together are refused by the queue.
  if ('runAt' in own) delete merged.delay;
  if ('delay' in own) delete merged.runAt;
  return { name: record.name, data: record.data, options: merged };
}
