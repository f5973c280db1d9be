/**
 * Spool's public API. Everything a user imports comes from here; the rest of src/ is internal.
 */
export { openQueue, DEFAULT_DATABASE_URL, type OpenQueueOptions } from './open-queue.ts';
export { Queue, type BulkJob, type ListJobsFilter, type JobFilter, type PageFilter, type JobPage, type NameInfo, type ThroughputMinute } from './queue.ts';
export { Worker } from './worker/worker.ts';
export type { AddedFlow, ChildFailurePolicy, FlowChild, FlowSpec } from './flows/flow.ts';
export type { FlowProgress } from './flows/flow-progress.ts';
export { defineJob, type JobDefinition } from './typed/define-job.ts';
export type { StandardSchemaV1 } from './typed/standard-schema.ts';
export type { WorkerOptions, Handlers } from './worker/worker-options.ts';
export type { WorkerStats } from './worker/worker-stats.ts';
export { type Handler, type JobContext } from './worker/attempt.ts';
export type { Job, JobStatus, JobOptions, JobCounts, BackoffOptions, TransactionClient, AttemptError } from './job.ts';
export { JOB_STATUSES } from './job.ts';
export type { QueueEvent, QueueEventType, QueueListener, WatchEvent, DeletedJob } from './events.ts';
export type { WatchListener, WatchOptions } from './watch.ts';
export type { NameLimits, RateLimit } from './limits/limits.ts';
export {
  SpoolError, ValidationError, JobNotFoundError, JobStateError, StoreError, JobFailedError, WaitTimeoutError,
} from './errors.ts';
export {
  createBatchedProgressUpdater,
  type BatchedProgressUpdater,
  type BatchedProgressUpdaterOptions,
} from './progress.ts';
export { backoffDelay } from './backoff.ts';
export type { Clock } from './clock.ts';
export type { Logger } from './logger.ts';
export type { StoreStats, JobChangeType } from './store/store.ts';
export { ScheduleNotFoundError } from './schedules/schedule-admin.ts';
export { MAX_CATCH_UP, MISSED_AFTER_MS, type ScheduleInfo, type ScheduleSpec, type ScheduleOptions, type MissedPolicy } from './schedules/spec.ts';
export type { RetentionPolicy, RetentionRule } from './retention.ts';
