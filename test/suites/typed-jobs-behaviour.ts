import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { defineJob, ValidationError, type Queue } from '../../src/index.ts';
import { createSpoolServer } from '../../src/server/index.ts';
import { caller } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';
import type { FlowFactory } from './flow-behaviour.ts';

const FAST = { pollMs: 20, progressFlushMs: 20 };

/** Typed jobs (docs/typed-jobs.md): validated before anything is written; handlers get the parsed data. */
export function typedJobsBehaviour(kind: string, factory: FlowFactory): void {
  const it = (name: string, fn: (queue: Queue) => Promise<void>) =>
    test(name, async () => {
      const db = await factory();
      const queue = await db.open();
      try {
        await fn(queue);
      } finally {
        await queue.close();
        await db.cleanup();
      }
    });

  const scanSchema = z.object({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'repo must look like owner/name'), depth: z.number().int().default(1) });

  describe(`typed jobs: ${kind}`, () => {
    it('a bad payload is rejected with the schema message, and nothing is written', async (queue) => {
      const scan = defineJob('deep-scan', scanSchema, async () => 'never');
      const before = queue.stats().statements;
      await assert.rejects(queue.add(scan, { repo: 'not a repo' }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, /data\.repo: repo must look like owner\/name/);
        return true;
      });
      // @ts-expect-error repo must be a string: the add() overload is typed from the schema
      await assert.rejects(queue.add(scan, { repo: 42 }), /data\.repo: .*string/i);
      assert.equal(queue.stats().statements, before, 'no statement was sent');
      assert.equal((await queue.counts()).pending, 0);
    });

    it('the handler gets the parsed data (defaults applied); a worker takes definitions', async (queue) => {
      const seen: { repo: string; depth: number }[] = [];
      const scan = defineJob('deep-scan', scanSchema, async (job) => {
        seen.push(job.data); // typed { repo: string; depth: number }
        return job.data.depth;
      });
      const report = defineJob('report', z.object({ kind: z.enum(['daily', 'weekly']) }), async (job) => job.data.kind);
      const worker = queue.worker([scan, report], FAST);
      const a = await queue.add(scan, { repo: 'a/b' });
      const b = await queue.add(report, { kind: 'daily' });
      await worker.start();
      await waitFor(async () => (await queue.counts()).completed === 2, 'both ran');
      await worker.stop();
      assert.deepEqual(seen, [{ repo: 'a/b', depth: 1 }]);
      assert.equal((await queue.getJob(a))!.result, 1);
      assert.equal((await queue.getJob(b))!.result, 'daily');
      assert.deepEqual(queue.jobTypes().map((t) => t.name), ['deep-scan', 'report']);
      const schema = queue.jobTypes()[0]!.jsonSchema as { properties: Record<string, unknown> };
      assert.ok(schema.properties.repo, 'the JSON Schema of the data, from zod');
    });

    it('the server lists typed jobs with their JSON Schema, and POST /api/jobs checks their data', async (queue) => {
      const scan = defineJob('deep-scan', scanSchema, async () => 'ran');
      queue.worker([scan], FAST); // the queue now knows the typed job (not started: nothing runs)
      const server = createSpoolServer(queue);
      const call = caller(server);
      try {
        const types = await call('GET', '/api/job-types');
        assert.equal(types.status, 200);
        const [type] = (types.json as { jobTypes: { name: string; jsonSchema: { required: string[] } }[] }).jobTypes;
        assert.equal(type!.name, 'deep-scan');
        assert.deepEqual(type!.jsonSchema.required, ['repo']);
        const bad = await call('POST', '/api/jobs', { body: { name: 'deep-scan', data: { repo: 'nope' } } });
        assert.equal(bad.status, 400);
        assert.match(bad.json.error!.message, /data\.repo: repo must look like owner\/name/);
        assert.equal((await queue.counts()).pending, 0, 'nothing written');
        assert.equal((await call('POST', '/api/jobs', { body: { name: 'deep-scan', data: { repo: 'a/b' } } })).status, 201);
      } finally {
        await server.close();
      }
    });

    it('a typed handler fails the attempt when stored data no longer fits its schema', async (queue) => {
      const scan = defineJob('deep-scan', scanSchema, async () => 'ran');
      await queue.add('deep-scan', { repo: 7 }, { maxAttempts: 1 }); // added by name: no schema on this path
      const worker = queue.worker([scan], FAST);
      await worker.start();
      await waitFor(async () => (await queue.counts()).failed === 1, 'the job failed');
      await worker.stop();
      const [job] = await queue.listJobs({ status: 'failed' });
      assert.match(job!.error!, /job\.data\.repo/);
    });
  });
}
