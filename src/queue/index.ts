export { backoffSeconds } from './backoff';
export type { Job, JobState } from './job';
export { JOB_STATES, LeaseLostError, PermanentJobError, QueueStoppingError } from './job';
export type { EnqueueRequest, JobContext, JobHandler, QueueConfig } from './job-queue';
export { JobQueue } from './job-queue';
