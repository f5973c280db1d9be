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

/**
 * Why retry() of a failed or cancelled job was refused although its state allows it: another pending or
 * running job took its uniqueKey meanwhile (at most one may hold it). Names the key and the holder, so the
 * caller knows which job to wait for or cancel.
 */
export function uniqueKeyHeld(id: string, current: Job | null, holderId: string | undefined): Error {
  if (current === null) return new JobNotFoundError(id);
  const key = JSON.stringify(current.uniqueKey);
  const holder = holderId === undefined ? 'another pending or running job' : `job ${holderId}`;
  return new JobStateError(
    id,
    current.status,
    `cannot retry job ${id}: its uniqueKey ${key} is held by ${holder}; let that job finish, or cancel it, then retry`,
  );
}
