export { createRedis, describeRedisUrl, evictionWarning, redisStateLogger, waitForRedis } from './connection.js';
export { isRetryableError } from './errors.js';
export { startInProcessScheduler, type InProcessScheduler } from './in-process.js';
export {
  NIGHTLY_JOB,
  QUEUE_NAME,
  RUN_JOB,
  runReportIn,
  SCHEDULER_ID,
  type NightlyJobData,
  type RunJobData,
  type RunJobReport,
} from './names.js';
export { jobOptions, localDate, localTime, nextRunTimes, registeredSchedule, registerSchedule } from './schedule.js';
export { enqueueRun, waitForRunJob, type SettledRunJob, type TriggerResult } from './trigger.js';
export { createEtlWorker, scheduledSchools, type JobContext, type RunJobResult, type WorkerOptions } from './worker.js';
