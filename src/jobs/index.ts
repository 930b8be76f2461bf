export { createRedis, describeRedisUrl, evictionWarning, redisStateLogger, waitForRedis } from './connection.js';
export { isRetryableError } from './errors.js';
export { startInProcessScheduler, type InProcessScheduler } from './in-process.js';
export { NIGHTLY_JOB, QUEUE_NAME, RUN_JOB, SCHEDULER_ID, type NightlyJobData, type RunJobData } from './names.js';
export { jobOptions, localDate, localTime, nextRunTimes, registeredSchedule, registerSchedule } from './schedule.js';
export { enqueueRun, waitForJob, type TriggerResult } from './trigger.js';
export { createEtlWorker, scheduledSchools, type JobContext, type RunJobResult, type WorkerOptions } from './worker.js';
