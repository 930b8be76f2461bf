import { EXTRACT_DAY, EXTRACT_YEAR, dayOf } from '../calendar.js';
import type { CsvTableWriter } from '../csv-writer.js';
import { SKILLS, STAFF_NOTES } from '../pools.js';
import { createRandom } from '../random.js';
import { reportName, type StaffMember } from '../staff.js';
import { digits, fit, landline, mobileNumber } from '../text.js';
import { commitRow, setLastWrite, type SchoolContext } from './common.js';

/** Payroll classification by role (SF.PAYROLL_CLASS, at most 20 characters). */
const PAYROLL_CLASS: Readonly<Record<StaffMember['role'], string>> = {
  principal: 'Principal Class',
  assistant: 'Principal Class',
  business: 'Education Support',
  teacher: 'Classroom Teacher',
  support: 'Education Support',
};

/**
 * SF: every staff member. Home and mail addresses are the UM rows written for staff, from
 * `firstAddressKey` on; subjects taught are drawn from the staff member's faculty.
 */
export async function writeStaff(w: CsvTableWriter, ctx: SchoolContext, firstAddressKey: number): Promise<void> {
  const { plan } = ctx;
  const workPhone = landline(createRandom(plan.seed, 'SF-phone'));
  for (const s of ctx.staff.all) {
    const random = createRandom(plan.seed, 'SF', s.index);
    const r = w.row;
    const teaches = s.faculty !== null;
    r.text('SFKEY', s.key);
    r.text('SURNAME', s.surname.toUpperCase());
    r.text('TITLE', s.title);
    r.text('FIRST_NAME', s.firstName);
    r.text('SECOND_NAME', s.secondName);
    r.text('PREF_NAME', s.prefName);
    r.text('GENDER', s.gender);
    r.date('BIRTHDATE', s.birthDay);
    r.int('HOMEKEY', firstAddressKey + s.index);
    r.int('MAILKEY', firstAddressKey + s.index);
    r.text('MOBILE', s.mobile);
    r.text('WORK_PHONE', workPhone);
    r.text('E_MAIL', s.email);
    if (teaches) r.text('VIT_NO', digits(random, 6));
    r.date('START', s.startDay);
    r.date('FINISH', s.finishDay);
    r.text('FACULTY01', s.faculty);
    r.text('FACULTY02', s.secondFaculty);
    if (s.faculty) {
      const own = plan.subjects.filter((su) => su.faculty === s.faculty);
      for (let n = 0; n < 3 && own.length > 0; n++)
        r.text(`SUBJECT0${n + 1}`, own[(s.index + n * 5) % own.length]?.key);
    }
    r.float('FTE', s.fte, 2);
    for (let day = 1; day <= 5; day++)
      r.text(`AVAILABILITY0${day}`, s.fte < 1 && day > Math.round(s.fte * 5) ? 'N' : 'Y');
    r.int('CAMPUS', s.campus);
    r.text('HOUSE', plan.houses[s.index % plan.houses.length]?.key);
    if (teaches) r.text('ROOM', plan.rooms[s.index % plan.rooms.length]?.code);
    r.text('STAFF_TYPE', s.status === 'LEFT' ? 'L' : teaches ? 'T' : 'N');
    r.text('STATUS', random.pick(['P', 'P', 'P', 'C']));
    r.text('STAFF_STATUS', s.status);
    if (random.chance(0.06)) r.text('SKILL_QUALIFICATION', random.pick(SKILLS));
    r.text('PAYROLL_REC_NO', s.payroll);
    r.text('PAYROLL_CLASS', PAYROLL_CLASS[s.role]);
    r.text('REPORT_NAME', reportName(s));
    r.text('POLICE_CLEARANCE', 'Y');
    r.date('CLEARANCE_DATE', Math.max(s.startDay, EXTRACT_DAY - 1500 + random.int(1400)));
    r.text('OK_TO_PUBLISH', random.chance(0.8) ? 'Y' : 'N');
    if (teaches) {
      r.int('MAX_EXTRAS', 20);
      r.int('ACC_EXTRAS', random.int(15));
      r.int('WEEK_EXTRAS', random.int(3));
      r.int('NORMAL_ALLOTMENT', Math.round(s.fte * 20));
    }
    r.text('BIRTH_COUNTRY', s.birthCountry);
    r.text('EMERG_NAME01', fit(`${random.pick(s.background.female)} ${s.surname}`, 50));
    r.text('EMERG_RELATION01', random.pick(['Spouse', 'Partner', 'Mother', 'Father', 'Sister']));
    r.text('EMERG_CONTACT01', mobileNumber(random));
    r.text('GROUP_AVAILABILITY', 'Y');
    if (random.chance(0.05)) r.text('NOTES', random.pick(STAFF_NOTES));
    r.date('VIT_EXPIRY', teaches ? dayOf(EXTRACT_YEAR + 1 + random.int(4), 9, 30) : null);
    // WWCC card numbers look like 01234567-01.
    r.text('WWCC_NUMBER', `${digits(random, 8)}-0${1 + random.int(3)}`);
    r.date('WWCC_EXPIRY', dayOf(EXTRACT_YEAR + 1 + random.int(4), 1 + random.int(12), 1 + random.int(28)));
    r.text('WWCC_TYPE', 'E');
    setLastWrite(r, random, s.startDay);
    await commitRow(w);
  }
}
