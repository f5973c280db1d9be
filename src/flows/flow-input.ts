import { ValidationError } from '../errors.ts';
import { describeValue } from '../input-schemas.ts';
import type { JobOptions } from '../job.ts';
import type { BulkJob } from '../queue.ts';
import type { NewJob } from '../store/store.ts';
import { CHILD_FAILURE_POLICIES, type ChildFailurePolicy, FLOW_WAIT_AT, type FlowSpec, MAX_FLOW_CHILDREN } from './flow.ts';

/**
 * Checks a flow and turns it into the rows to insert, writing nothing: `toNewJob` checks one job as add()
 * does (name, data, options). Every problem names its field ("children[3].options.uniqueKey …").
 */
export function flowToNewJobs(spec: FlowSpec, toNewJob: (entry: BulkJob, prefix: string) => NewJob): { parent: NewJob; children: NewJob[] } {
  if (spec === null || typeof spec !== 'object') {
    throw new ValidationError([`addFlow() takes { name, data, options, children, onChildFailure }, got ${describeValue(spec)}`]);
  }
  const policy = checkPolicy(spec.onChildFailure ?? 'fail', 'onChildFailure');
  refuseOptions(spec.options, '', ['delay', 'runAt', 'uniqueKey', 'client'], 'the parent runs when its children are finished');
  const parent = toNewJob({ name: spec.name, data: spec.data, ...(spec.options ? { options: spec.options } : {}) }, '');
  parent.runAt = FLOW_WAIT_AT;
  if (!Array.isArray(spec.children) || spec.children.length === 0) {
    throw new ValidationError([`children must be a non-empty array of { name, data, options, onFailure }, got ${describeValue(spec.children)}; a job with no children is a plain add()`]);
  }
  if (spec.children.length > MAX_FLOW_CHILDREN) {
    throw new ValidationError([`children holds ${spec.children.length} jobs; one flow takes at most ${MAX_FLOW_CHILDREN.toLocaleString('en')} (one statement carries them)`]);
  }
  const children = spec.children.map((child, i) => {
    const prefix = `children[${i}].`;
    if (child === null || typeof child !== 'object') throw new ValidationError([`${prefix.slice(0, -1)} must be an object { name, data, options, onFailure }, got ${describeValue(child)}`]);
    refuseOptions(child.options, prefix, ['uniqueKey', 'client'], 'every child of a flow is inserted with it, in one transaction');
    const job = toNewJob({ name: child.name, data: child.data, ...(child.options ? { options: child.options } : {}) }, prefix);
    job.onFailure = child.onFailure === undefined ? policy : checkPolicy(child.onFailure, `${prefix}onFailure`);
    return job;
  });
  return { parent, children };
}

function checkPolicy(value: unknown, field: string): ChildFailurePolicy {
  if (!CHILD_FAILURE_POLICIES.includes(value as ChildFailurePolicy)) {
    throw new ValidationError([`${field} must be one of ${CHILD_FAILURE_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${describeValue(value)}`]);
  }
  return value as ChildFailurePolicy;
}

function refuseOptions(options: JobOptions | undefined, prefix: string, refused: (keyof JobOptions)[], why: string): void {
  if (options === null || typeof options !== 'object') return; // toNewJob reports it
  for (const key of refused) {
    if (options[key] !== undefined) throw new ValidationError([`${prefix}options.${key} is not taken in a flow (${why}); drop it`]);
  }
}
