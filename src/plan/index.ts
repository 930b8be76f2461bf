export { MirrorDigest, Verdict } from './digest.js';
export {
  MergePlan,
  type InactiveLookup,
  type LineRefresh,
  type PlannedBatch,
  type PlannedChange,
  type PlannedEnd,
  type RowAction,
} from './plan.js';
export type { RejectedKeys, StagedRow } from './types.js';
export { readAsOf, repeatedLoad, type FileIdentity, type PreviousLoad } from './unchanged.js';
