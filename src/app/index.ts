export { createApp, type App } from './app.js';
export { scheduleNightlyEtl, triggerEtl, type TriggerOptions, type TriggerOutcome } from './trigger.js';
