import { Hono } from 'hono';
import { z } from 'zod';
import { JOB_STATUSES, type Job } from '../../job.ts';
import type { Queue } from '../../queue.ts';
import { jsonBody, param, query } from '../validate.ts';

/** Query of GET /api/jobs: the filter and the page. Numbers arrive as strings. */
export const listQuery = z.strictObject({
  status: z.enum(JOB_STATUSES as [string, ...string[]], { error: `must be one of ${JOB_STATUSES.join(', ')}` }).optional(),
  name: z.string().optional(),
  limit: z.string().regex(/^[0-9]{1,4}$/, 'must be a whole number from 1 to 1000').transform(Number).optional(),
  cursor: z.string().optional(),
});

/** Body of POST /api/jobs. Options are those of queue.add() that JSON can carry; runAt as an ISO date or epoch ms. */
export const addBody = z.strictObject({
  name: z.string({ error: 'must be the job name, a string' }),
  data: z.unknown().optional(),
  options: z
    .strictObject({
      priority: z.unknown().optional(),
      delay: z.unknown().optional(),
      runAt: z
        .union([z.string(), z.number()], { error: 'must be an ISO date string or epoch milliseconds' })
        .transform((v) => new Date(v))
        .optional(),
      maxAttempts: z.unknown().optional(),
      backoff: z.unknown().optional(),
      timeout: z.unknown().optional(),
      uniqueKey: z.unknown().optional(),
    })
    .optional(),
});

/** A page and where the next one starts (null: this is the last). */
export interface JobPage {
  jobs: Job[];
  nextCursor: string | null;
}

/**
 * /api/jobs: list (keyset pages), one job, add, and the single-job actions. Every read is one statement;
 * bad input is refused (400) before anything is written.
 */
export function jobRoutes(queue: Queue): Hono {
  const app = new Hono();

  app.get('/', async (c) => {
    const q = query(c, listQuery);
    const limit = q.limit ?? 50;
    const jobs = await queue.listJobs({ status: q.status as Job['status'] | undefined, name: q.name, limit, cursor: q.cursor });
    const page: JobPage = { jobs, nextCursor: jobs.length === limit ? jobs.at(-1)!.id : null };
    return c.json(page);
  });

  app.post('/', async (c) => {
    const body = await jsonBody(c, addBody);
    const id = await queue.add(body.name, body.data, body.options as Parameters<Queue['add']>[2]);
    return c.json({ id }, 201);
  });

  app.get('/:id', async (c) => {
    const id = param(c, 'id');
    const job = await queue.getJob(id);
    if (!job) return c.json({ error: { code: 'JOB_NOT_FOUND', message: `job ${JSON.stringify(id.slice(0, 64))} does not exist (it was never added or has been deleted)` } }, 404);
    return c.json(job);
  });

  app.post('/:id/retry', async (c) => c.json(await queue.retry(param(c, 'id'))));
  app.post('/:id/cancel', async (c) => c.json(await queue.cancel(param(c, 'id'))));
  app.delete('/:id', async (c) => {
    const id = param(c, 'id');
    await queue.delete(id);
    return c.json({ id, deleted: true });
  });

  return app;
}
