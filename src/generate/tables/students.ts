import { EXTRACT_YEAR } from '../calendar.js';
import type { CsvTableWriter, RowBuilder } from '../csv-writer.js';
import { hasSchoolAccount, type Student, type StudentSequence } from '../people.js';
import { EMERGENCY_MEMOS, MEDICAL_NOTES, NICKNAMES, STUDENT_NOTES } from '../pools.js';
import type { Random } from '../random.js';
import { fit, mobileNumber } from '../text.js';
import { setLastWrite } from './common.js';

/**
 * The ST (students) row: the columns a school keeps up to date (names, family, dates, codes,
 * contact, status, a few memos) are filled and the other ~175 of the 211 are left empty. The 210
 * commas are 210 bytes and the three dates and the e-mail another 90, so an average row is about
 * 395 bytes, near the ~370 the benchmark assumes; filling fewer columns would make it less real.
 */

/**
 * TAG is the timetabling cohort: the calendar year of year 12. Consumers strip one leading
 * character for LEFT students and two for FUT; the exact prefixes are not documented, so `*` and
 * `FU` are used.
 */
function tagOf(s: Student): string {
  const cohort = String(EXTRACT_YEAR + (12 - s.year) + (s.status === 'FUT' ? 1 : 0));
  if (s.status === 'LEFT') return `*${cohort}`;
  if (s.status === 'FUT') return `FU${cohort}`;
  return cohort;
}

/** Fills the current ST row for `s`; `random` is the ST table's own stream (extras only). */
export function fillStudentRow(row: RowBuilder, s: Student, random: Random): void {
  const family = s.family;
  row.text('STKEY', s.key);
  row.text('SURNAME', s.surname.toUpperCase());
  row.text('FIRST_NAME', s.firstName);
  row.text('SECOND_NAME', s.secondName);
  row.text('PREF_NAME', s.prefName);
  row.text('FAMILY', family.key);
  row.text('ACADEMIC_A', 'Y');
  row.text('LIVING_A', 'A');
  row.text('CONTACT_A', family.adultB ? 'C' : 'A');
  if (family.alternate) {
    row.text('FAMB', family.alternate.key);
    row.text('ACADEMIC_B', 'Y');
    row.text('LIVING_B', 'O');
    row.text('RELATION_B01', family.alternate.adultA.relation);
    row.text('CONTACT_B', 'A');
  }
  // Accounts are made on arrival and closed on leaving, so FUT and LEFT students have no e-mail.
  if (hasSchoolAccount(s.status)) row.text('E_MAIL', s.email);
  row.text('MOBILE', s.mobile);
  row.int('REGISTRATION', s.registration);
  row.text('GENDER', s.gender);
  if (s.gender === 'X') row.text('GENDER_DESC', 'Non-binary');
  row.date('BIRTHDATE', s.birthDay);
  row.date('ENTRY', s.entryDay);
  row.date('EXIT_DATE', s.exitDay);
  row.date('DATELEFT', s.exitDay);
  row.date('DEPARTURE_DATE', s.departureDay);
  row.date('ARRIVAL', s.arrivalDay);
  row.text('STATUS', s.status);
  row.text('TAG', tagOf(s));
  row.text('HOME_GROUP', s.homeGroup?.key);
  row.text('SCHOOL_YEAR', String(s.year).padStart(2, '0'));
  row.text('HOUSE', s.house.key);
  row.int('CAMPUS', s.campus);
  row.text('BIRTH_COUNTRY', s.birthCountry);
  row.text('HOME_LANG', s.homeLanguage);
  row.text('OVERSEAS', s.arrivalDay === null ? 'N' : 'Y');
  row.text('KOORIE', random.chance(0.015) ? 'K' : 'N');

  if (random.chance(0.04)) {
    row.text('MEDICAL_ALERT', 'Y');
    row.text('ACTIVITY_RESTRICTION', random.pick(MEDICAL_NOTES));
  }
  const nick = NICKNAMES[s.firstName];
  if (nick && s.prefName === nick && random.chance(0.5)) {
    // A nickname in quotes, Robert "Bob": the CSV must double the quotes inside a quoted field.
    row.text('NOTES', `Known as ${s.firstName} "${nick}" at school.`);
  } else if (random.chance(0.03)) {
    row.text('NOTES', random.pick(STUDENT_NOTES));
  }
  if (random.chance(0.02)) {
    row.text('EMERG_NAME01', fit(`${family.adultA.given} ${family.adultA.surname}`, 30));
    row.text('EMERG_CONTACT01', mobileNumber(random));
    row.text('EMERG_CONTACT_MEMO01', random.pick(EMERGENCY_MEMOS));
  }
  setLastWrite(row, random, s.entryDay);
}

/** Writes `count` students from `sequence` to an open ST file, calling `seen` for each. */
export async function writeStudents(
  writer: CsvTableWriter,
  sequence: StudentSequence,
  count: number,
  random: Random,
  seen?: (s: Student) => void,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const s = sequence.next();
    fillStudentRow(writer.row, s, random);
    seen?.(s);
    const wait = writer.commit();
    if (wait) await wait;
  }
}
