import { Hono } from 'hono';
import { z } from 'zod';
import { JOB_STATUSES, type JobStatus } from '../../job.ts';
import type { JobFilter, JobPage, Queue } from '../../queue.ts';
import { HttpError } from '../http-errors.ts';
import { jsonBody, param, query } from '../validate.ts';

/** `data=` in a query string: a JSON object, parsed here and checked by the queue. */
const dataParam = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object, URL-encoded, e.g. data=%7B%22repo%22%3A%22a%2Fb%22%7D for {"repo":"a/b"}' });
    return z.NEVER;
  }
});

/** The filter of a query string. */
const filterQuery = {
  status: z.enum(JOB_STATUSES as [string, ...string[]], { error: `must be one of ${JOB_STATUSES.join(', ')}` }).optional(),
  name: z.string().optional(),
  data: dataParam.optional(),
};

/** Query of GET /api/jobs: the filter and the page. Numbers arrive as strings. */
export const listQuery = z.strictObject({
  ...filterQuery,
  limit: z.string().regex(/^[0-9]{1,4}$/, 'must be a whole number from 1 to 1000').transform(Number).optional(),
  cursor: z.string().optional(),
});

const countQuery = z.strictObject(filterQuery);

/** Body of the bulk actions: `{ filter: { status?, name?, data? } }`. */
const bulkBody = z.strictObject({ filter: z.record(z.string(), z.unknown(), { error: 'must be an object { status?, name?, data? }' }) });
const BULK_ACTIONS = { retry: 'retryMany', cancel: 'cancelMany', delete: 'deleteMany' } as const;

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


/**
 * /api/jobs: list (keyset pages), one job, add, and the single-job actions. Every read is one statement;
 * bad input is refused (400) before anything is written.
 */
export function jobRoutes(queue: Queue): Hono {
  const app = new Hono();

  app.get('/', async (c) => {
    const q = query(c, listQuery);
    const page: JobPage = await queue.listPage(defined({ status: q.status as JobStatus | undefined, name: q.name, data: q.data, limit: q.limit, cursor: q.cursor }));
    return c.json(page);
  });

  app.get('/count', async (c) => {
    const q = query(c, countQuery);
    return c.json({ count: await queue.countJobs(defined({ status: q.status as JobStatus | undefined, name: q.name, data: q.data })) });
  });

  app.post('/bulk/:action', async (c) => {
    const action = param(c, 'action');
    if (!Object.hasOwn(BULK_ACTIONS, action)) {
      throw new HttpError(404, 'NOT_FOUND', `no bulk action ${JSON.stringify(action.slice(0, 40))}; use retry, cancel or delete`);
    }
    const { filter } = await jsonBody(c, bulkBody);
    const count = await queue[BULK_ACTIONS[action as keyof typeof BULK_ACTIONS]](filter as JobFilter);
    return c.json({ count });
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

/** The object without its undefined fields (the queue's strict schemas treat a present undefined as given). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
