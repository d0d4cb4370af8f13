/** Face jobs on a Redis queue (BullMQ): submit/list/wait/cancel (RedisJobQueue) and workers (QueueWorker). */
export { RedisJobQueue } from './job-queue';
export type { JobQueueOptions, QueueConnectionOptions, QueuedJobInfo, QueuedJobState, WaitOptions } from './job-queue';
export { QueueWorker } from './queue-worker';
export type { QueueWorkerOptions, QueueWorkerEvents } from './queue-worker';
export { redisOptions, redactRedisUrl } from './redis-url';
export { DEFAULT_QUEUE_NAME, PERMANENT_CODES } from './names';
