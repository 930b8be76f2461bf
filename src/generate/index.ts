/**
 * The deterministic sample-school generator: eduHub CSV files (or fixed-width .DAT files with
 * their relationships.json) for tests, demos and benchmarks. Same options, same bytes.
 */
export type { FixedLayout, GenerateOptions, GeneratedFile } from './options.js';
export { FIXED_LAYOUTS, MAX_STUDENTS } from './options.js';
export { EDUHUB_TABLES, generateSchool } from './school.js';
export { MAX_STUDENT_ROWS, writeStudentsFile } from './students-file.js';
