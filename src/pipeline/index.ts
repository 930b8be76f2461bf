export { inspectFile, inspectSource, DEFAULT_EXAMPLES, type FileReport, type InspectOptions, type SchoolReport, type SourceReport } from './inspect.js';
