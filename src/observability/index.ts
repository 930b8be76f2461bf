export {
  assessHealth,
  STALE_HOURS,
  summariseRuns,
  type Health,
  type HealthMetrics,
  type HealthStatus,
} from './health.js';
export { createLogger, type Logger } from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
