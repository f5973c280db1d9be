import { Hono } from 'hono';
import { z } from 'zod';
import { parseInput } from '../../input-schemas.ts';
import type { Queue } from '../../queue.ts';
import { scheduleControl } from '../capabilities.ts';
import { param } from '../validate.ts';

const keySchema = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const key = (raw: string) => parseInput(keySchema, raw, 'key');

/** /api/schedules: list, trigger now, pause, resume and remove (when the queue has schedules). */
export function scheduleRoutes(queue: Queue): Hono {
  const app = new Hono();
  app.get('/', async (c) => c.json({ schedules: await scheduleControl(queue).listSchedules() }));
  app.post('/:key/trigger', async (c) => {
    const k = key(param(c, 'key'));
    return c.json({ key: k, triggered: await scheduleControl(queue).triggerSchedule(k) });
  });
  app.post('/:key/pause', async (c) => {
    const k = key(param(c, 'key'));
    await scheduleControl(queue).pauseSchedule(k);
    return c.json({ key: k, paused: true });
  });
  app.post('/:key/resume', async (c) => {
    const k = key(param(c, 'key'));
    await scheduleControl(queue).resumeSchedule(k);
    return c.json({ key: k, paused: false });
  });
  app.delete('/:key', async (c) => {
    const k = key(param(c, 'key'));
    await scheduleControl(queue).unschedule(k);
    return c.json({ key: k, deleted: true });
  });
  return app;
}
