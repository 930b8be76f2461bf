import { EXTRACT_YEAR, SCHOOL_YEAR_START } from '../calendar.js';
import type { CsvTableWriter } from '../csv-writer.js';
import type { Subject } from '../plan.js';
import { REPORT_COMMENTS } from '../pools.js';
import { createRandom, type Random } from '../random.js';
import { reportName, type StaffMember } from '../staff.js';
import { fit } from '../text.js';
import { commitRow, setLastWrite, type SchoolContext } from './common.js';

/**
 * Subjects (SU), subject selections (STMA) and the classes they form (SCL). STMA is written
 * first: each enrolment takes the next seat in its subject, 25 to a class, so the number of
 * classes per subject is known when SCL is written and every STMA (MKEY, CLASS) has its SCL row.
 */

/** Students per class. */
const CLASS_SIZE = 25;

const OVERVIEWS: readonly string[] = [
  'Builds skills in reading, writing, speaking and listening.',
  'Hands-on, project-based; students keep a folio.\r\nAssessment: folio 60%, test 40%.',
  'Covers the "big ideas" of the course, with excursions.',
  'Prepares students for the end-of-year exam.\r\nTexts: see booklist, 2024.',
];

/** SU: every subject of every year level; PROMOTE points at the same subject a year on. */
export async function writeSubjects(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const { plan } = ctx;
  const random = createRandom(plan.seed, 'SU');
  const keys = new Set(plan.subjects.map((s) => s.key));
  for (const s of plan.subjects) {
    const r = w.row;
    const promote = `${String(s.year + 1).padStart(2, '0')}${s.code}`;
    r.text('SUKEY', s.key);
    r.text('FULLNAME', s.fullName);
    r.text('SHORTNAME', s.shortName);
    r.text('FACULTY', s.faculty);
    r.text('PROMOTE', keys.has(promote) ? promote : null);
    if (random.chance(0.5))
      r.text('OVERVIEW', `Year ${s.year} ${s.fullName.replace(/ - Year \d+$/, '')}. ${random.pick(OVERVIEWS)}`);
    r.text('SUBJECT_ACADEMIC_YEAR', String(s.year).padStart(2, '0'));
    r.int('SEMESTER', 0);
    r.text('DURATION', 'Y');
    r.text('SUBJECT_TYPE', 'U');
    r.int('PRINT_SEQ_NO', s.index + 1);
    r.text('ELECTIVE', s.core ? 'C' : 'E');
    setLastWrite(r, random, SCHOOL_YEAR_START);
    await commitRow(w);
  }
}

/** The teacher of class `n` of a subject: spread over the subject's faculty. */
function classTeacher(ctx: SchoolContext, subject: Subject, n: number): StaffMember {
  return ctx.staff.teacherFor(subject.faculty, subject.index * 3 + n);
}

/** Subjects a student of `year` takes: the core plus electives, 6–8 in all. */
function chooseSubjects(subjects: readonly Subject[], year: number, random: Random): Subject[] {
  const core = subjects.filter((s) => s.core);
  const electives = subjects.filter((s) => !s.core);
  const wanted = year <= 10 ? core.length + 2 + random.int(2) : 6;
  const chosen = [...core];
  // Partial shuffle: draw distinct electives until the load is full.
  const pool = [...electives];
  while (chosen.length < wanted && pool.length > 0) {
    const i = random.int(pool.length);
    const [s] = pool.splice(i, 1);
    if (s) chosen.push(s);
  }
  return chosen;
}

/**
 * STMA: 6–8 subject selections per current student (ACTV, LVNG). Returns the number of
 * enrolments per subject key, from which SCL's classes follow.
 */
export async function writeEnrolments(w: CsvTableWriter, ctx: SchoolContext): Promise<Map<string, number>> {
  const { plan, tally } = ctx;
  const random = createRandom(plan.seed, 'STMA');
  const seats = new Map<string, number>();
  let tid = 0;
  for (const student of tally.roster) {
    if (student.status !== 'ACTV' && student.status !== 'LVNG') continue;
    const subjects = plan.subjectsByYear.get(student.year) ?? [];
    for (const [priority, subject] of chooseSubjects(subjects, student.year, random).entries()) {
      const seat = seats.get(subject.key) ?? 0;
      seats.set(subject.key, seat + 1);
      const classNo = Math.floor(seat / CLASS_SIZE) + 1;
      const r = w.row;
      r.int('TID', ++tid);
      r.text('SKEY', student.key);
      r.text('MKEY', subject.key);
      r.int('PRIORITY', priority + 1);
      r.int('CLASS', classNo);
      r.text('FULLNAME', subject.fullName);
      r.text('TEACHER_NAME', reportName(classTeacher(ctx, subject, classNo)));
      r.int('LOCK', 0);
      r.int('TRPERIOD', EXTRACT_YEAR * 100 + 1);
      r.text('TTPERIOD', String(EXTRACT_YEAR));
      r.int('CYEAR', EXTRACT_YEAR);
      r.date('CREATED', Math.max(student.entryDay, SCHOOL_YEAR_START) - 14);
      r.int('DROPOUT', 0);
      if (random.chance(0.6)) r.text('GRADE01', random.pick(['A', 'B', 'B', 'C', 'C', 'D', 'E']));
      if (random.chance(0.03)) r.text('COMMENTA', random.pick(REPORT_COMMENTS));
      r.text('SCHOOL_YEAR', String(student.year).padStart(2, '0'));
      r.int('TOT_CLASS_PERIODS', 100 + random.int(40));
      r.int('TOT_APPROVED_ABS', random.int(6));
      r.int('TOT_UNAPPROVED_ABS', random.chance(0.2) ? random.int(4) : 0);
      r.text('EQUIVALENT_KLA', subject.faculty);
      setLastWrite(r, random, Math.max(student.entryDay, SCHOOL_YEAR_START));
      await commitRow(w);
    }
  }
  return seats;
}

/** SCL: the classes of each subject in the current quilt, with teacher, room and campus. */
export async function writeClasses(
  w: CsvTableWriter,
  ctx: SchoolContext,
  seats: ReadonlyMap<string, number>,
): Promise<void> {
  const { plan } = ctx;
  const random = createRandom(plan.seed, 'SCL');
  const campusOf = new Map(plan.years.map((y) => [y.num, y.campus]));
  for (const subject of plan.subjects) {
    const classes = Math.ceil((seats.get(subject.key) ?? 0) / CLASS_SIZE);
    const campus = campusOf.get(subject.year) ?? 1;
    const rooms = plan.rooms.filter((room) => room.campus === campus && room.faculty === subject.faculty);
    const anyRooms = rooms.length > 0 ? rooms : plan.rooms;
    for (let classNo = 1; classNo <= classes; classNo++) {
      const r = w.row;
      const room = anyRooms[(subject.index + classNo) % anyRooms.length];
      r.text('SCLKEY', `${subject.key}${String(classNo).padStart(2, '0')}`);
      r.text('QUILT', String(EXTRACT_YEAR));
      r.text('SUBJECT', subject.key);
      r.int('CLASS', classNo);
      r.text('TEACHER01', classTeacher(ctx, subject, classNo).key);
      if (random.chance(0.05))
        r.text('TEACHER02', ctx.staff.teacherFor(subject.faculty, subject.index * 3 + classNo + 1).key);
      r.text('ROOM01', room?.code);
      r.int('FREQUENCY', subject.core ? 5 : 3 + random.int(2));
      r.text('PERIOD_ABSENCES', 'Y');
      r.int('CAMPUS', campus);
      r.text('ALIAS', fit(`${subject.code} ${subject.year}.${classNo}`, 10));
      setLastWrite(r, random, SCHOOL_YEAR_START);
      await commitRow(w);
    }
  }
}
