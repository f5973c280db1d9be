import { Hono } from 'hono';
import { jobNameSchema, parseInput } from '../../input-schemas.ts';
import type { Queue } from '../../queue.ts';
import { flowControl } from '../capabilities.ts';
import { jsonBody, param } from '../validate.ts';
import { z } from 'zod';

const name = (raw: string) => parseInput(jobNameSchema, raw, 'name');

/**
 * /api/names: every job name with its counts, when a worker last claimed one, whether it is paused and its
 * limits (two statements); pause, resume and limits per name (flow control).
 */
export function nameRoutes(queue: Queue): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    // Counts and last claims (one statement over the counters) with pause and limits (one over the control rows).
    return c.json({ names: await queue.names() });
  });
  app.post('/:name/pause', async (c) => {
    const n = name(param(c, 'name'));
    await flowControl(queue).pause(n);
    return c.json({ name: n, paused: true });
  });
  app.post('/:name/resume', async (c) => {
    const n = name(param(c, 'name'));
    await flowControl(queue).resume(n);
    return c.json({ name: n, paused: false });
  });
  app.put('/:name/limits', async (c) => {
    const n = name(param(c, 'name'));
    const control = flowControl(queue);
    const limits = await jsonBody(c, z.record(z.string(), z.unknown(), { error: 'must be an object of limits, e.g. { "concurrency": 2 }' }));
    await control.setLimits(n, limits);
    return c.json({ name: n, limits });
  });
  return app;
}
