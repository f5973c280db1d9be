import { Hono } from 'hono';
import type { Queue } from '../../queue.ts';

/**
 * GET /api/job-types: the typed jobs (defineJob) the server's queue knows, each with the JSON Schema of its
 * data (null when the schema library offers none), so a form for adding a job can be built from it. The queue
 * learns of a typed job when the process adds one or runs a worker of it (`spool serve --handlers` with
 * definitions). POST /api/jobs checks a typed job's data against its schema (400 with the schema's message).
 */
export function jobTypeRoutes(queue: Queue): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json({ jobTypes: queue.jobTypes() }));
  return app;
}
