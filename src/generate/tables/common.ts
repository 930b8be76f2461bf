import { EXTRACT_DAY, hhmm } from '../calendar.js';
import type { CsvTableWriter, RowBuilder } from '../csv-writer.js';
import type { SchoolPlan } from '../plan.js';
import type { Random } from '../random.js';
import type { StaffRoster } from '../staff.js';
import type { StudentTally } from '../tally.js';

/** What the table writers of one school share. */
export interface SchoolContext {
  readonly plan: SchoolPlan;
  readonly staff: StaffRoster;
  readonly tally: StudentTally;
}

/** Operators that appear in LW_USER (upper case, as CASES21 stores it). */
export const LW_USERS = ['ADM', 'REG', 'OFF', 'ATT'] as const;

/** Last write: a school-hours moment in the weeks before the extract, never before `notBefore`. */
export function setLastWrite(row: RowBuilder, random: Random, notBefore: number): void {
  const span = Math.max(1, Math.min(120, EXTRACT_DAY - notBefore));
  const day = EXTRACT_DAY - random.int(span);
  const seconds = 8 * 3600 + random.int(9 * 3600);
  row.dateTime('LW_DATE', day, seconds);
  row.int('LW_TIME', hhmm(seconds));
  row.text('LW_USER', random.pick(LW_USERS));
}

/**
 * Writes the current row, waiting only when the file asks for it (backpressure). Not async on
 * purpose: most rows need no wait, and a promise per row would be garbage in the hot loops.
 */
export function commitRow(writer: CsvTableWriter): Promise<void> | undefined {
  return writer.commit();
}
