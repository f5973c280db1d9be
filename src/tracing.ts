import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Job } from './job.ts';

/**
 * Traces through @opentelemetry/api: a no-op until the application registers a tracer provider (and a
 * propagator, for the context to travel). Then each add() is a PRODUCER span whose context is stored with its
 * jobs (W3C traceparent/tracestate, `job.traceContext`), and each attempt a CONSUMER span that continues it,
 * active while the handler runs, so the handler's own spans nest under it. Without a provider nothing is
 * stored and an attempt costs one non-recording span object.
 */
const tracer = trace.getTracer('spool');

/** Starts the span of an add of jobs of these names. `carrier` is null when no propagator wrote anything. */
export function startAddSpan(names: string[], count: number): { carrier: string | null; end(error?: unknown): void } {
  const span = tracer.startSpan(count === 1 ? `spool.add ${names[0]}` : `spool.add ${count} jobs`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'spool',
      'messaging.operation.type': 'send',
      'messaging.destination.name': names.length === 1 ? names[0] : names.join(','),
      'messaging.batch.message_count': count,
    },
  });
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return {
    carrier: Object.keys(carrier).length > 0 ? JSON.stringify(carrier) : null,
    end(error?: unknown) {
      if (error !== undefined) fail(span, error);
      span.end();
    },
  };
}

/**
 * Runs one attempt inside its span (the producer's context as parent, when the job carries one). `failure`
 * says what failed the attempt, from its result (undefined: it did not fail). When nothing records, `run()`'s
 * own promise is returned, adding no step to the attempt.
 */
export function inAttemptSpan<T>(job: Job, workerId: string, run: () => Promise<T>, failure: (result: T) => unknown): Promise<T> {
  const parent = job.traceContext ? propagation.extract(context.active(), job.traceContext) : context.active();
  const span = tracer.startSpan(
    `spool.run ${job.name}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'spool',
        'messaging.operation.type': 'process',
        'messaging.destination.name': job.name,
        'messaging.message.id': job.id,
        'spool.attempt': job.attempts,
        'spool.worker.id': workerId,
      },
    },
    parent,
  );
  if (!span.isRecording()) {
    span.end();
    return run();
  }
  return context.with(trace.setSpan(parent, span), run).then((result) => {
    const failed = failure(result);
    if (failed !== undefined) fail(span, failed);
    span.end();
    return result;
  });
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
