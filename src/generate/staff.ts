import { EXTRACT_DAY, dayOf } from './calendar.js';
import type { SchoolPlan } from './plan.js';
import { AUSTRALIA, BACKGROUNDS, type Background } from './pools.js';
import { createRandom, pickWeighted } from './random.js';
import { asciiLetters, fit, mobileNumber } from './text.js';

/**
 * The staff of the sample school, drawn up front because many tables point at them: home group
 * and year level teachers (KGC, KCY), faculty coordinators (KSF), class teachers (SCL, STMA),
 * room owners (SM) and the principal team (SCI). The eduHub SF file and the fixed-width
 * STAFF.DAT both list these people.
 */

export type StaffRole = 'principal' | 'assistant' | 'business' | 'teacher' | 'support';

/** The core of an SF row, shared by SF_<school>.csv and STAFF.DAT. */
export interface StaffMember {
  readonly index: number;
  /** SF.SFKEY: up to 4 upper-case letters or digits, from the initials (`JSM`, `JSMA`). */
  readonly key: string;
  readonly surname: string;
  readonly firstName: string;
  readonly secondName: string | null;
  readonly prefName: string;
  readonly title: string;
  readonly gender: 'M' | 'F';
  readonly birthDay: number;
  readonly role: StaffRole;
  /** Teaching faculty (KSF.KSFKEY), null for non-teaching staff. */
  readonly faculty: string | null;
  readonly secondFaculty: string | null;
  readonly status: 'ACTV' | 'LEFT';
  readonly startDay: number;
  readonly finishDay: number | null;
  readonly campus: number;
  readonly email: string;
  readonly mobile: string;
  /** Central payroll number: 8 digits, unique. */
  readonly payroll: string;
  /** Full-time equivalent, 0.4–1.0. */
  readonly fte: number;
  readonly background: Background;
  readonly birthCountry: string;
}

/** All staff, with the roles other tables point at. */
export interface StaffRoster {
  readonly all: readonly StaffMember[];
  readonly principal: StaffMember;
  /** Assistant principals, one per campus at least. */
  readonly assistants: readonly StaffMember[];
  readonly businessManager: StaffMember;
  /** Active classroom teachers, for home groups and classes. */
  readonly teachers: readonly StaffMember[];
  /** The `n`-th active teacher of a faculty, wrapping; any active teacher when it has none. */
  teacherFor(faculty: string, n: number): StaffMember;
}

const LETTERS_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** SFKEY allocator: initials first, then a fourth character, then a numbered fallback. */
function createStaffKeys(): (first: string, surname: string) => string {
  const used = new Set<string>();
  let fallback = 0;
  return (first, surname) => {
    const base = (asciiLetters(first).slice(0, 1) + asciiLetters(surname).slice(0, 2) + 'XX').slice(0, 3).toUpperCase();
    if (!used.has(base)) {
      used.add(base);
      return base;
    }
    for (const ch of LETTERS_DIGITS) {
      if (!used.has(base + ch)) {
        used.add(base + ch);
        return base + ch;
      }
    }
    // 37 people sharing initials: number them Z000, Z001… (base 36), still 4 characters.
    for (;;) {
      const key = `Z${(fallback++).toString(36).toUpperCase().padStart(3, '0')}`;
      if (!used.has(key)) {
        used.add(key);
        return key;
      }
    }
  };
}

const TEACHER_WEIGHTS = (plan: SchoolPlan): (readonly [string, number])[] =>
  plan.faculties.map((f) => [f.key, f.weight] as const);

/** Draws `plan.staffCount` staff. The first few are the principal team; a few others have left. */
export function makeStaff(plan: SchoolPlan): StaffRoster {
  const random = createRandom(plan.seed, 'staff');
  const keyFor = createStaffKeys();
  const emails = new Set<string>();
  const facultyWeights = TEACHER_WEIGHTS(plan);
  const backgroundWeights = BACKGROUNDS.map((b) => [b, b.weight] as const);
  const assistantCount = plan.campuses.length;
  const all: StaffMember[] = [];

  for (let index = 0; index < plan.staffCount; index++) {
    const role: StaffRole =
      index === 0
        ? 'principal'
        : index <= assistantCount
          ? 'assistant'
          : index === assistantCount + 1
            ? 'business'
            : random.chance(0.78)
              ? 'teacher'
              : 'support';
    const background = pickWeighted(random, backgroundWeights);
    const gender: 'M' | 'F' = random.chance(0.62) ? 'F' : 'M';
    const firstName = random.pick(gender === 'F' ? background.female : background.male);
    const surname = random.pick(background.surnames);
    const secondName = random.chance(0.5) ? random.pick(gender === 'F' ? background.female : background.male) : null;
    const teaches = role === 'teacher' || role === 'assistant' || role === 'principal';
    const faculty = teaches ? pickWeighted(random, facultyWeights) : null;
    const secondFaculty = faculty && random.chance(0.3) ? pickWeighted(random, facultyWeights) : null;
    // The principal team and business manager are current; about 6% of the others have left.
    const left = index > assistantCount + 1 && random.chance(0.06);
    const startDay = dayOf(1995 + random.int(29), 1, 25) + random.int(300);
    const finishDay = left
      ? Math.min(EXTRACT_DAY - 1, Math.max(startDay + 200, dayOf(2019, 1, 1) + random.int(2000)))
      : null;

    let mailbox = `${asciiLetters(firstName)}.${asciiLetters(surname)}`.toLowerCase();
    for (let n = 2; emails.has(mailbox); n++)
      mailbox = `${asciiLetters(firstName)}.${asciiLetters(surname)}${n}`.toLowerCase();
    emails.add(mailbox);

    all.push({
      index,
      key: keyFor(firstName, surname),
      surname,
      firstName,
      secondName: secondName === firstName ? null : secondName,
      prefName: firstName,
      title:
        role === 'principal' && random.chance(0.5) ? 'Dr' : gender === 'M' ? 'Mr' : random.pick(['Ms', 'Mrs', 'Ms']),
      gender,
      birthDay: dayOf(1960 + random.int(38), 1, 1) + random.int(365),
      role,
      faculty,
      secondFaculty: secondFaculty === faculty ? null : secondFaculty,
      status: left ? 'LEFT' : 'ACTV',
      startDay,
      finishDay,
      campus: plan.campuses[index % plan.campuses.length]?.key ?? 1,
      email: fit(`${mailbox}@education.vic.gov.au`, 70),
      mobile: mobileNumber(random),
      payroll: String(10_000_000 + index * 37 + random.int(37)),
      fte: role === 'teacher' || role === 'support' ? random.pick([1, 1, 1, 0.8, 0.6, 0.4]) : 1,
      background,
      birthCountry: random.chance(0.75) ? AUSTRALIA : background.country,
    });
  }

  const at = (i: number): StaffMember => {
    const s = all[i];
    if (!s) throw new Error(`staff member ${i} missing`);
    return s;
  };
  // Classroom teachers take home groups and classes; the principal team teaches little or none.
  const teachers = all.filter((s) => s.status === 'ACTV' && s.role === 'teacher');
  const byFaculty = new Map<string, StaffMember[]>();
  for (const t of teachers) {
    for (const f of [t.faculty, t.secondFaculty]) {
      if (!f) continue;
      const list = byFaculty.get(f);
      if (list) list.push(t);
      else byFaculty.set(f, [t]);
    }
  }
  return {
    all,
    principal: at(0),
    assistants: all.slice(1, assistantCount + 1),
    businessManager: at(assistantCount + 1),
    teachers,
    teacherFor(faculty, n) {
      const list = byFaculty.get(faculty) ?? teachers;
      const t = list[n % list.length];
      if (!t) throw new Error('the school has no active teachers');
      return t;
    },
  };
}

/** `Ms J Smith`: how CASES21 prints a teacher on reports and in STMA.TEACHER_NAME. */
export function reportName(s: StaffMember): string {
  return fit(`${s.title} ${s.firstName.slice(0, 1)} ${s.surname}`, 30);
}
