import { Hono } from 'hono';
import { z } from 'zod';
import type { Queue } from '../../queue.ts';
import { query } from '../validate.ts';

const throughputQuery = z.strictObject({
  minutes: z.string().regex(/^[0-9]{1,5}$/, 'must be a whole number of minutes from 1 to 10080').transform(Number).optional(),
  name: z.string().optional(),
});

/** /api/stats: counts by status and by name; completed and failed per minute. Each one statement. */
export function statsRoutes(queue: Queue): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const byName = await queue.countsByName();
    const counts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const c of Object.values(byName)) for (const [status, n] of Object.entries(c)) counts[status as keyof typeof counts] += n;
    return c.json({ counts, byName });
  });
  app.get('/throughput', async (c) => {
    const q = query(c, throughputQuery);
    const minutes = await queue.throughput({ ...(q.minutes !== undefined ? { minutes: q.minutes } : {}), ...(q.name !== undefined ? { name: q.name } : {}) });
    return c.json({ minutes });
  });
  return app;
}
