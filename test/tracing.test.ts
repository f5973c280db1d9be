import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  type Context, context, type ContextManager, propagation, ROOT_CONTEXT, type Span, type SpanContext, SpanKind, type SpanOptions,
  type SpanStatus, type TextMapPropagator, trace, type Tracer, type TracerProvider,
} from '@opentelemetry/api';
import { openQueue } from '../src/index.ts';
import { tempDir } from './support/sqlite.ts';

/** A span that records what was done to it. */
class TestSpan {
  ended = false;
  status: SpanStatus | undefined;
  exceptions: unknown[] = [];
  constructor(readonly name: string, readonly kind: SpanKind | undefined, readonly attributes: Record<string, unknown>, readonly ctx: SpanContext, readonly parent: SpanContext | undefined) {}
  spanContext() { return this.ctx; }
  setAttribute() { return this; }
  setAttributes() { return this; }
  addEvent() { return this; }
  addLink() { return this; }
  addLinks() { return this; }
  setStatus(status: SpanStatus) { this.status = status; return this; }
  updateName() { return this; }
  end() { this.ended = true; }
  isRecording() { return true; }
  recordException(e: unknown) { this.exceptions.push(e); }
}

const spans: TestSpan[] = [];
const hex = (n: number) => randomBytes(n).toString('hex');
const tracer: Tracer = {
  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()) {
    const parent = trace.getSpanContext(ctx);
    const span = new TestSpan(name, options.kind, { ...(options.attributes ?? {}) }, { traceId: parent?.traceId ?? hex(16), spanId: hex(8), traceFlags: 1 }, parent);
    spans.push(span);
    return span as unknown as Span;
  },
  startActiveSpan(name: string, ...args: unknown[]) {
    const fn = args.at(-1) as (span: Span) => unknown;
    const span = this.startSpan(name, (args.length > 1 ? args[0] : {}) as SpanOptions);
    return context.with(trace.setSpan(context.active(), span), () => fn(span));
  },
} as Tracer;

/** A context manager on AsyncLocalStorage (what @opentelemetry/context-async-hooks does). */
const storage = new AsyncLocalStorage<Context>();
const contextManager: ContextManager = {
  active: () => storage.getStore() ?? ROOT_CONTEXT,
  with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
  bind: (_ctx, target) => target,
  enable() { return this; },
  disable() { return this; },
};
/** W3C traceparent, enough for the test. */
const propagator: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const sc = trace.getSpanContext(ctx);
    if (sc) setter.set(carrier, 'traceparent', `00-${sc.traceId}-${sc.spanId}-01`);
  },
  extract(ctx, carrier, getter) {
    const value = getter.get(carrier, 'traceparent');
    const m = typeof value === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(value) : null;
    return m ? trace.setSpanContext(ctx, { traceId: m[1]!, spanId: m[2]!, traceFlags: 1, isRemote: true }) : ctx;
  },
  fields: () => ['traceparent'],
};
trace.setGlobalTracerProvider({ getTracer: () => tracer } satisfies TracerProvider);
context.setGlobalContextManager(contextManager);
propagation.setGlobalPropagator(propagator);
after(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

test("add() is a producer span whose context travels in the job; the attempt is a consumer span continuing it, active in the handler", async () => {
  const { dir, cleanup } = tempDir();
  const queue = await openQueue(`sqlite:${join(dir, 'spool.db')}`);
  try {
    let activeInHandler: SpanContext | undefined;
    const worker = queue.worker(
      {
        traced: async () => {
          activeInHandler = trace.getActiveSpan()?.spanContext();
          return 'ok';
        },
        broken: async () => {
          throw new Error('broken on purpose');
        },
      },
      { pollMs: 10 },
    );
    const request = tracer.startSpan('request');
    const id = await context.with(trace.setSpan(context.active(), request), () => queue.add('traced', { a: 1 }));
    const add = spans.find((s) => s.name === 'spool.add traced')!;
    assert.equal(add.kind, SpanKind.PRODUCER);
    assert.equal(add.parent?.spanId, request.spanContext().spanId, 'the add is a child of the caller');
    assert.ok(add.ended);
    const stored = (await queue.getJob(id))!.traceContext!;
    assert.equal(stored.traceparent, `00-${add.ctx.traceId}-${add.ctx.spanId}-01`);

    const bad = await queue.add('broken', null, { maxAttempts: 1 });
    await worker.start();
    await queue.waitFor(id, { timeout: 10_000 });
    await assert.rejects(queue.waitFor(bad, { timeout: 10_000 }));
    await worker.stop();
    const run = spans.find((s) => s.name === 'spool.run traced')!;
    assert.equal(run.kind, SpanKind.CONSUMER);
    assert.equal(run.parent?.spanId, add.ctx.spanId, 'the attempt continues the producer');
    assert.equal(run.ctx.traceId, request.spanContext().traceId, 'one trace from the request to the handler');
    assert.equal(run.attributes['messaging.message.id'], id);
    assert.equal(run.attributes['spool.attempt'], 1);
    assert.equal(activeInHandler?.spanId, run.ctx.spanId, "the handler runs inside the attempt's span");
    assert.ok(run.ended);
    const failed = spans.find((s) => s.name === 'spool.run broken')!;
    assert.equal(failed.status?.code, 2);
    assert.match((failed.exceptions[0] as Error).message, /broken on purpose/);
  } finally {
    await queue.close();
    cleanup();
  }
});
