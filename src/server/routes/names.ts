import { Hono } from 'hono';
import { jobNameSchema, parseInput } from '../../input-schemas.ts';
import type { Queue } from '../../queue.ts';
import { flowControl } from '../capabilities.ts';
import { jsonBody, param } from '../validate.ts';
import { z } from 'zod';

const name = (raw: string) => parseInput(jobNameSchema, raw, 'name');

/**
 * /api/names: every job name with its counts and when a worker last claimed one (one statement over the
 * counters); pause, resume and limits per name (flow control, when the queue has it).
 */
export function nameRoutes(queue: Queue): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const names = await queue.names();
    // paused and limits come from flow control (issue #8) once the queue reports them per name.
    return c.json({ names: names.map((n) => ({ ...n, paused: null, limits: null })) });
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
