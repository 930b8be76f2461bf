import { EXTRACT_YEAR, SCHOOL_YEAR_START, dayOf } from '../calendar.js';
import type { CsvTableWriter } from '../csv-writer.js';
import { COUNTRIES, ROOM_COMMENTS, SUBURBS } from '../pools.js';
import { createRandom } from '../random.js';
import { landline } from '../text.js';
import { countOf } from '../tally.js';
import { commitRow, setLastWrite, type SchoolContext } from './common.js';

/**
 * The small code tables: campuses (SCI), year levels (KCY), houses (KGH), home groups (KGC),
 * faculties (KSF), rooms (SM), absence types (KCT) and countries (KGT). Each row points only at
 * things that exist: staff from the roster, rooms and campuses from the plan.
 */

/** SCI: one row per campus; the first is the administrative site. */
export async function writeCampuses(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const { plan, staff } = ctx;
  const random = createRandom(plan.seed, 'SCI');
  const [suburb, postcode] = SUBURBS[0] ?? ['Mulgrave', '3170'];
  for (const [i, campus] of plan.campuses.entries()) {
    const r = w.row;
    r.int('SCIKEY', campus.key);
    r.text('CAMPUS_NAME', `${plan.schoolName.replace(' Secondary College', '')} ${campus.name}`.slice(0, 40));
    r.text('CAMPUS_TYPE', campus.type);
    // SCHOOL_LINK is unique in SCI: the administrative campus carries the school number itself.
    r.text('SCHOOL_LINK', i === 0 ? plan.school : `${plan.school}-${campus.key}`);
    r.text('SCHOOL_TYPE', 'Secondary');
    r.text('SCHOOL_NAME', plan.schoolName);
    r.text('ADMIN_SITE', i === 0 ? 'Y' : 'N');
    r.text('SCH_PRINCIPAL', staff.principal.key);
    r.text('SF_OIC', (staff.assistants[i] ?? staff.principal).key);
    r.text('SF_VPRIN', staff.assistants[0]?.key);
    r.text('SF_BMANAGER', staff.businessManager.key);
    r.text('SCH_BMANAGER', staff.businessManager.key);
    r.text('CURRENT_QUILT', String(EXTRACT_YEAR));
    r.text('CURRENT_SEMESTER', `${EXTRACT_YEAR}S2`);
    r.text('CURRENT_RELEASE', 'CASES21 v67');
    r.date('LAST_PROMOTION_DATE', dayOf(EXTRACT_YEAR - 1, 12, 12));
    r.date('AGE_CALCULATION_DATE', dayOf(EXTRACT_YEAR, 12, 31));
    r.date('NEXT_ENROLMENT_DATE', dayOf(EXTRACT_YEAR + 1, 1, 29));
    r.int('CONSECUTIVE_DAYS', 5);
    r.int('CUMULATIVE_DAYS', 10);
    r.int('OVERALL_DAYS', 20);
    r.text('ADDRESS01', `${12 + i * 40}-${20 + i * 40} Banksia Park Drive`);
    r.text('SUBURB', suburb);
    r.text('STATE', 'VIC');
    r.text('POSTCODE', postcode);
    r.text('TELEPHONE', landline(random));
    r.text('MAILING_ADDRESS01', 'PO Box 120');
    r.text('MAILING_SUBURB', suburb);
    r.text('MAILING_STATE', 'VIC');
    r.text('MAILING_POSTCODE', postcode);
    r.text('TELEPHONE_PREFIX', '03');
    r.text('CAMPUS_EMAIL_CONTACT', `${plan.school.toLowerCase()}.campus${campus.key}@education.vic.gov.au`);
    r.text('CAMPUS_OPEN_IND', 'Y');
    r.text('SPEC_CURR_IND', 'N');
    setLastWrite(r, random, SCHOOL_YEAR_START);
    await commitRow(w);
  }
}

/** KCY: year levels 07–12 with coordinators and the birth-date window of each level. */
export async function writeYearLevels(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const { plan, staff } = ctx;
  const random = createRandom(plan.seed, 'KCY');
  for (const [i, y] of plan.years.entries()) {
    const r = w.row;
    const prepYear = EXTRACT_YEAR - y.num;
    r.text('KCYKEY', y.key);
    r.text('DESCRIPTION', `Year ${y.num}`);
    r.int('NUM_EQVT', y.num);
    r.text('SHORT_DESC', `Yr ${y.num}`);
    r.text('TEACHER', staff.teachers[(i * 5) % staff.teachers.length]?.key);
    r.text('NEXT_YR', plan.years[i + 1]?.key);
    r.text('FINAL_YR', y.num === 12 ? 'Y' : 'N');
    r.text('CSF_REQUIRED', 'N');
    r.text('HALF_DAY_ABS', 'Y');
    r.text('PERIOD_ABS', y.num >= 10 ? 'Y' : 'N');
    r.date('BIRTHDATE_FROM', dayOf(prepYear - 6, 5, 1));
    r.date('BIRTHDATE_TO', dayOf(prepYear - 5, 4, 30));
    setLastWrite(r, random, SCHOOL_YEAR_START);
    await commitRow(w);
  }
}

/** KGH: houses with their current student numbers by sex and age. */
export async function writeHouses(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const random = createRandom(ctx.plan.seed, 'KGH');
  for (const house of ctx.plan.houses) {
    const c = countOf(ctx.tally.houses, house.key);
    const r = w.row;
    r.text('KGHKEY', house.key);
    r.text('DESCRIPTION', house.description);
    r.int('CAMPUS', 1);
    r.text('ACTIVE', 'Y');
    r.int('HOUSE_SIZE', Math.min(32767, c.size));
    r.int('MALES', Math.min(32767, c.males));
    r.int('FEMALES', Math.min(32767, c.females));
    r.int('SELF_DESCRIBED', Math.min(32767, c.selfDescribed));
    for (let age = 1; age <= 20; age++) {
      const nn = String(age).padStart(2, '0');
      r.int(`AGE_F${nn}`, Math.min(32767, c.agesF[age] ?? 0));
      r.int(`AGE_M${nn}`, Math.min(32767, c.agesM[age] ?? 0));
      r.int(`AGE_S${nn}`, Math.min(32767, c.agesS[age] ?? 0));
    }
    setLastWrite(r, random, SCHOOL_YEAR_START);
    await commitRow(w);
  }
}

/** KGC: home groups, each with a teacher, a room on its campus and its current numbers. */
export async function writeHomeGroups(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const { plan, staff } = ctx;
  const random = createRandom(plan.seed, 'KGC');
  const next = new Map(plan.homeGroups.map((g) => [g.key, g]));
  for (const g of plan.homeGroups) {
    const c = countOf(ctx.tally.homeGroups, g.key);
    const campusRooms = plan.rooms.filter((room) => room.campus === g.campus);
    const room = campusRooms[g.index % Math.max(1, campusRooms.length)] ?? plan.rooms[0];
    const r = w.row;
    const yearKey = String(g.year).padStart(2, '0');
    r.text('KGCKEY', g.key);
    r.text('DESCRIPTION', `Year ${g.year} home group ${g.key.slice(-1)}`);
    r.int('CAMPUS', g.campus);
    r.text('TEACHER', staff.teachers[(g.index * 7) % staff.teachers.length]?.key);
    if (random.chance(0.2)) r.text('TEACHER_B', staff.teachers[(g.index * 7 + 3) % staff.teachers.length]?.key);
    r.text('ACTIVE', 'Y');
    r.text('ROOM', room?.code);
    r.int('HG_SIZE', Math.min(32767, c.size));
    r.int('MALES', Math.min(32767, c.males));
    r.int('FEMALES', Math.min(32767, c.females));
    r.int('SELF_DESCRIBED', Math.min(32767, c.selfDescribed));
    r.text('MIN_AC_YR', yearKey);
    r.text('MAX_AC_YR', yearKey);
    r.text('NEXT_HG', next.get(`${g.year + 1}${g.key.slice(-1)}`)?.key);
    setLastWrite(r, random, SCHOOL_YEAR_START);
    await commitRow(w);
  }
}

/** KSF: faculties, each coordinated by one of its teachers. */
export async function writeFaculties(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const random = createRandom(ctx.plan.seed, 'KSF');
  for (const f of ctx.plan.faculties) {
    const r = w.row;
    r.text('KSFKEY', f.key);
    r.text('DESCRIPTION', f.description);
    r.text('COORDINATOR', ctx.staff.teacherFor(f.key, 0).key);
    setLastWrite(r, random, SCHOOL_YEAR_START);
    await commitRow(w);
  }
}

const ROOM_KINDS: Readonly<Record<string, string>> = {
  SCI: 'Science Lab',
  ARTS: 'Art Studio',
  TECH: 'Computer Lab',
  HPE: 'Gymnasium',
  LOTE: 'Language Room',
};

/** SM: rooms, spread over the campuses and faculties. */
export async function writeRooms(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const { plan, staff } = ctx;
  const random = createRandom(plan.seed, 'SM');
  for (const room of plan.rooms) {
    const campus = plan.campuses.find((c) => c.key === room.campus);
    const kind = ROOM_KINDS[room.faculty] ?? 'Classroom';
    const r = w.row;
    r.text('ROOM', room.code);
    r.text('TITLE', `${kind} ${room.code}`);
    r.int('SEATING', kind === 'Gymnasium' ? 120 : kind === 'Classroom' ? 28 : 24);
    // Commas in a plain text column, as room descriptions often have.
    r.text(
      'DESCRIPTION',
      `${campus?.name ?? 'Main Campus'}, Block ${room.code.replace(/\d+$/, '')}, level ${room.code.replace(/^[A-Z]+/, '').slice(0, 1)}`,
    );
    r.text('ROOM_TYPE', 'R');
    r.text('FACULTY', room.faculty);
    r.int('CAMPUS', room.campus);
    r.text('STAFF_CODE', staff.teacherFor(room.faculty, room.index).key);
    if (random.chance(0.1)) r.text('COMMENTA', random.pick(ROOM_COMMENTS));
    r.text('BOARD', random.chance(0.6) ? 'IWB' : 'WB');
    r.text('BLACKOUT', random.chance(0.3) ? 'Y' : 'N');
    r.text('GROUP_INDICATOR', 'S');
    setLastWrite(r, random, SCHOOL_YEAR_START);
    await commitRow(w);
  }
}

/** Absence types (KCT): [code, description, abbreviation (upper case, as CASES21 keeps it), DEET type, pre-approved, rate]. */
export const ABSENCE_TYPES: readonly (readonly [number, string, string, string, boolean, number])[] = [
  [100, 'Present', 'PRESENT', 'P', true, 0],
  [111, 'Late arrival, approved', 'LATEAPP', 'P', true, 0],
  [113, 'Late arrival, not approved', 'LATEUNAP', 'P', false, 0],
  [119, 'Left early, approved', 'EARLYAPP', 'P', true, 0],
  [200, 'Medical/illness', 'MEDICAL', 'M', true, -1],
  [201, 'Medical or dental appointment', 'MEDAPPT', 'M', true, -1],
  [300, 'Parent choice', 'PARENTCH', 'O', false, -1],
  [301, 'Family holiday', 'FAMHOL', 'O', false, -1],
  [500, 'School activity (excursion)', 'SCHBUS', 'S', true, 0],
  [800, 'Unexplained', 'UNEXPL', 'U', false, -1],
];

/** KCT: absence types used by SXAB. */
export async function writeAbsenceTypes(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const random = createRandom(ctx.plan.seed, 'KCT');
  for (const [code, description, abbrev, doeType, approved, rate] of ABSENCE_TYPES) {
    const r = w.row;
    r.int('KCTKEY', code);
    r.text('DESCRIPTION', description);
    r.text('ABBREV_DESC', abbrev);
    r.text('CURRICULUM', code === 500 ? 'Y' : 'N');
    r.text('DOE_TYPE', doeType);
    r.text('ENABLED', 'Y');
    r.text('PRE_APPROVED', approved ? 'Y' : 'N');
    r.int('ABS_RATE', rate);
    r.text('SMS', code === 800 ? 'Y' : 'N');
    if (code === 800)
      r.text(
        'SMS_MESSAGE',
        'Your child was marked absent today without explanation. Please contact the school office, or reply to this SMS.',
      );
    r.text('EMAIL', code === 800 ? 'Y' : 'N');
    setLastWrite(r, random, dayOf(EXTRACT_YEAR - 1, 1, 1));
    await commitRow(w);
  }
}

/** KGT: the countries that ST, DF, SF and UM refer to. */
export async function writeCountries(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const random = createRandom(ctx.plan.seed, 'KGT');
  for (const [code, description, english] of COUNTRIES) {
    const r = w.row;
    r.text('COUNTRY', code);
    r.text('DESCRIPTION', description);
    r.text('ENGLISH_SPEAKING', english ? 'Y' : 'N');
    r.text('SACC', code);
    r.text('REFUGEE', 'N');
    setLastWrite(r, random, dayOf(EXTRACT_YEAR - 1, 1, 1));
    await commitRow(w);
  }
}
