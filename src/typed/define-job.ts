import { ValidationError } from '../errors.ts';
import { jobNameSchema, parseInput } from '../input-schemas.ts';
import type { Job } from '../job.ts';
import type { JobContext } from '../worker/attempt.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';

/** A typed job: its name, the Standard Schema of its data, and its handler, which gets the parsed data. */
export interface JobDefinition<S extends StandardSchemaV1 = StandardSchemaV1, Result = unknown> {
  readonly name: string;
  readonly schema: S;
  // Method syntax on purpose: its parameters are bivariant, so definitions of different schemas fit one array.
  handler(job: Job<StandardSchemaV1.InferOutput<S>>, ctx: JobContext): Promise<Result> | Result;
}

/**
 * Defines a typed job. `queue.add(definition, data)` is typed from the schema's input and validates `data`
 * through the schema before anything is written; `queue.worker([definitions])` runs `handler` with the data
 * parsed again by the schema (defaults and transforms applied). Any Standard Schema works (zod 4, Valibot,
 * ArkType …): Spool calls only `schema['~standard'].validate`.
 */
export function defineJob<S extends StandardSchemaV1, Result = unknown>(
  name: string,
  schema: S,
  handler: (job: Job<StandardSchemaV1.InferOutput<S>>, ctx: JobContext) => Promise<Result> | Result,
): JobDefinition<S, Result> {
  parseInput(jobNameSchema, name, 'defineJob() name');
  if (schema === null || typeof schema !== 'object' || typeof schema['~standard']?.validate !== 'function') {
    throw new ValidationError([`defineJob(${JSON.stringify(name)}) schema must be a Standard Schema (zod 4, Valibot, ArkType …: an object with ['~standard'].validate)`]);
  }
  if (typeof handler !== 'function') throw new ValidationError([`defineJob(${JSON.stringify(name)}) handler must be a function (job, ctx) => result`]);
  return Object.freeze({ name, schema, handler });
}

/** True when `value` is a job definition (what add() and worker() tell apart from a name and a handler map). */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return value !== null && typeof value === 'object' && typeof (value as JobDefinition).name === 'string'
    && typeof (value as JobDefinition).handler === 'function' && typeof (value as JobDefinition).schema?.['~standard']?.validate === 'function';
}

/**
 * Runs `data` through the definition's schema: its output, or a ValidationError whose lines are the schema's
 * own messages, each prefixed with where (`data.repo: Expected string, received number`).
 */
export async function validateJobData<S extends StandardSchemaV1>(definition: JobDefinition<S>, data: unknown, field = 'data'): Promise<StandardSchemaV1.InferOutput<S>> {
  let result = definition.schema['~standard'].validate(data);
  if (result instanceof Promise) result = await result;
  if (result.issues === undefined) return result.value as StandardSchemaV1.InferOutput<S>;
  throw new ValidationError(result.issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? p.key : p));
    return `${[field, ...path].join('.')}: ${issue.message} (schema of job '${definition.name}')`;
  }));
}

/** The handler map a worker runs for typed jobs: each parses its job's data through the schema first. */
export function handlersOf(definitions: readonly JobDefinition[]): Record<string, (job: Job, ctx: JobContext) => Promise<unknown>> {
  const handlers: Record<string, (job: Job, ctx: JobContext) => Promise<unknown>> = {};
  definitions.forEach((definition, i) => {
    if (!isJobDefinition(definition)) throw new ValidationError([`worker() definitions[${i}] must be made by defineJob(name, schema, handler)`]);
    if (handlers[definition.name]) throw new ValidationError([`worker() definitions hold '${definition.name}' twice; give each job name once`]);
    handlers[definition.name] = async (job, ctx) => {
      // Parsed again at run time: the stored data is the JSON given to add(); the handler gets the schema's output.
      const data = await validateJobData(definition, job.data, 'job.data');
      return definition.handler({ ...job, data }, ctx);
    };
  });
  return handlers;
}

/**
 * The JSON Schema of a typed job's data, for forms (the dashboard's enqueue form): through Standard JSON Schema
 * when the library offers it (zod 4 does), else null. Never throws.
 */
export function jsonSchemaOf(definition: JobDefinition): Record<string, unknown> | null {
  try {
    return definition.schema['~standard'].jsonSchema?.input({ target: 'draft-2020-12' }) ?? null;
  } catch {
    return null;
  }
}
