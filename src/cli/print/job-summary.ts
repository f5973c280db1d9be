import { isWaitingParent } from '../../flows/flow.ts';
import type { Job } from '../../index.ts';
import { formatDuration, formatWhen, shortJson, truncate } from './format.ts';

/**
 * The one-line "what is going on" of a job, for `spool ls`: when it runs, its progress, how long it took,
 * or why it failed.
 */
export function jobSummary(job: Job, now: number, max = 60): string {
  switch (job.status) {
    case 'pending': {
      if (isWaitingParent(job)) {
        const p = job.progress as { done?: number; total?: number } | null;
        return truncate(p?.total !== undefined ? `waiting for children: ${p.done ?? 0} of ${p.total} done` : 'waiting for children', max);
      }
      const when = job.runAt.getTime() > now + 500 ? `runs ${formatWhen(job.runAt, now)}` : 'waiting for a worker';
      return truncate(job.attempts > 0 && job.error ? `${when}; attempt ${job.attempts} failed: ${job.error}` : when, max);
    }
    case 'running':
      return truncate(job.progress !== null ? `progress ${shortJson(job.progress, max)}` : `started ${formatWhen(job.startedAt, now)}`, max);
    case 'completed': {
      const took = job.startedAt && job.completedAt ? `took ${formatDuration(job.completedAt.getTime() - job.startedAt.getTime())}` : 'done';
      return truncate(job.result !== null ? `${took} → ${shortJson(job.result, max)}` : took, max);
    }
    case 'failed':
      return truncate(job.error ?? 'failed', max);
    case 'cancelled':
      return truncate(job.error ?? 'cancelled', max);
  }
}
