import { JobNotFoundError, JobStateError } from '../errors.ts';
import type { Job } from '../job.ts';
import type { TransitionOp } from './store.ts';

const ALLOWED: Record<TransitionOp, string> = {
  retry: 'only failed or cancelled jobs can be retried',
  cancel: 'only pending or running jobs can be cancelled',
  delete: 'any job can be deleted',
};

/**
 * Explains why a guarded transition touched no row: the job is missing, or in a state the operation
 * does not accept. Runs only on the failure path, so the success path stays one statement.
 */
export function transitionRefused(id: string, op: TransitionOp, current: Job | null): Error {
  if (current === null) return new JobNotFoundError(id);
  return new JobStateError(id, current.status, `cannot ${op} job ${id}: it is ${current.status}; ${ALLOWED[op]}`);
}
