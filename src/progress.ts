import { parseInput, progressUpdaterOptionsSchema, jobIdSchema } from './input-schemas.ts';
import { toJsonText } from './json-payload.ts';
import type { Queue } from './queue.ts';

/** Options of createBatchedProgressUpdater(). */
export interface BatchedProgressUpdaterOptions {
  /** Write the latest queued progress at most this often; default 5,000 ms. */
  flushInterval?: number;
  /** Write at once after this many queued updates; default 10. */
  maxBatchSize?: number;
}

/** Coalesces progress written from outside a handler: only the latest value is written, once per batch. */
export interface BatchedProgressUpdater {
  /**
   * Keeps `progress` as the latest value; writes nothing now unless maxBatchSize updates are waiting.
   * Throws ValidationError at once for a value JSON cannot carry (BigInt, cycles, …).
   */
  queue(progress: unknown): void;
  /** Writes the latest queued value now (one statement), if any. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/**
 * The seed-compatible helper for progress reported outside a worker handler (inside one, ctx.progress is
 * already coalesced by the worker tick). 44 updates with maxBatchSize 10 cost at most 5 statements.
 */
export function createBatchedProgressUpdater(
  queue: Queue,
  jobId: string,
  options: BatchedProgressUpdaterOptions = {},
): BatchedProgressUpdater {
  const id = parseInput(jobIdSchema, jobId, 'jobId');
  const o = parseInput(progressUpdaterOptionsSchema, options, 'options');
  const flushInterval = o.flushInterval ?? 5_000;
  const maxBatchSize = o.maxBatchSize ?? 10;
  let latest: { value: unknown } | undefined;
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (!latest) return writing;
    const attempt = latest;
    latest = undefined;
    queued = 0;
    // Writes are chained so they land in the order they were queued; a failed write does not stop later ones.
    writing = writing
      .catch(() => {})
      .then(async () => {
        try {
          await queue.updateProgress(id, attempt.value);
        } catch (error) {
          // Keep the value for the next flush, unless a newer one was queued meanwhile.
          latest ??= attempt;
          throw error;
        }
      });
    return writing;
  };

  // A flush nobody awaits (the timer, or a full batch): its failure is logged, and the value is kept, so the
  // next flush() or close() tries it again and rejects to its caller if that fails too.
  const flushUnawaited = () => {
    flush().catch((error: unknown) => {
      queue.logger.error(
        `progress of job ${id} could not be written by createBatchedProgressUpdater (a flush nobody awaited): ${(error as Error)?.message ?? error}; ` +
          'kept for the next flush() or close(), which rejects if it fails again',
        { jobId: id },
      );
    });
  };

  return {
    queue(progress) {
      // Refuse non-JSON progress here, where the caller sees it: the timed flush has no caller to throw to.
      toJsonText(progress, 'progress');
      latest = { value: progress };
      queued++;
      if (queued >= maxBatchSize) flushUnawaited();
      else timer ??= setTimeout(flushUnawaited, flushInterval);
    },
    flush,
    async close() {
      await flush();
    },
  };
}
