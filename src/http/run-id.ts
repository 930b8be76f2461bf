import { EtlError } from '../errors/index.js';

/** Route ids: digits only, no leading zero (anything else is 400 by schema; see runIdOf for the range). */
export const RUN_ID = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]*$' } },
  required: ['id'],
} as const;

/**
 * A route's run id as a number. One past 2^53 - 1 is no run of ours: ids are JavaScript numbers
 * throughout, and PostgreSQL refuses one past its bigint (9223372036854775807) with an error that
 * would be a 500. So a larger id is a run that does not exist (404), decided before any query.
 */
export function runIdOf(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id))
    throw new EtlError('ETL_RUN_UNKNOWN', `there is no run ${raw.length > 24 ? `${raw.slice(0, 24)}…` : raw}`);
  return id;
}
