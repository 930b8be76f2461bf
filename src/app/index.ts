export { createApp, type App } from './app.js';
export {
  assertServeConfig,
  assertWorkerConfig,
  buildAppServer,
  startServe,
  startWorker,
  startWorkerService,
  untilSignal,
  type ServeHandle,
  type WorkerHandle,
  type WorkerStartOptions,
} from './serve.js';
export { scheduleNightlyEtl, triggerEtl, type TriggerOptions, type TriggerOutcome } from './trigger.js';
