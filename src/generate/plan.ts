/**
 * The shape of the sample school before any person is drawn: campuses, year levels, houses, home
 * groups, faculties, subjects and rooms. Everything here is a pure function of the student
 * count, so the tables that refer to it (ST → KGC, SU → KSF, SM → SCI…) agree without lookups.
 */

/** Staff a generated school has at most: far more than any school, far fewer than 4-character keys. */
const MAX_STAFF = 5000;

export interface Campus {
  /** SCI.SCIKEY. */
  readonly key: number;
  readonly name: string;
  readonly type: string;
  /** Year levels taught on this campus. */
  readonly years: readonly number[];
}

/** A KCY row. */
export interface YearLevel {
  /** KCY.KCYKEY: `07` … `12`. */
  readonly key: string;
  readonly num: number;
  readonly campus: number;
}

/** A KGH row. */
export interface House {
  readonly key: string;
  readonly description: string;
}

/** A KGC row. */
export interface HomeGroup {
  /** KGC.KGCKEY: `7A`, `10C` (at most 3 characters). */
  readonly key: string;
  readonly year: number;
  readonly campus: number;
  /** Position in the plan's home group list, for stable teacher and room choices. */
  readonly index: number;
}

/** A KSF row. */
export interface Faculty {
  readonly key: string;
  readonly description: string;
  /** Share of teachers in this faculty. */
  readonly weight: number;
}

/** An SU row. */
export interface Subject {
  /** SU.SUKEY: year level and a three-letter code, `07ENG`. */
  readonly key: string;
  readonly code: string;
  readonly fullName: string;
  readonly shortName: string;
  readonly faculty: string;
  readonly year: number;
  readonly core: boolean;
  readonly index: number;
}

/** An SM row. */
export interface Room {
  /** SM.ROOM: `A101`, at most 4 characters. */
  readonly code: string;
  readonly faculty: string;
  readonly campus: number;
  readonly index: number;
}

/** Everything about the school that does not depend on a random draw. */
export interface SchoolPlan {
  readonly school: string;
  readonly seed: number;
  readonly students: number;
  readonly schoolName: string;
  readonly campuses: readonly Campus[];
  readonly years: readonly YearLevel[];
  readonly houses: readonly House[];
  readonly homeGroups: readonly HomeGroup[];
  /** Home groups by year level number. */
  readonly homeGroupsByYear: ReadonlyMap<number, readonly HomeGroup[]>;
  readonly faculties: readonly Faculty[];
  readonly subjects: readonly Subject[];
  /** Subjects by year level number. */
  readonly subjectsByYear: ReadonlyMap<number, readonly Subject[]>;
  readonly rooms: readonly Room[];
  /** Staff to draw, at least 20: about one per 12 students. */
  readonly staffCount: number;
}

/** Year levels of a Victorian government secondary college. */
export const YEAR_NUMBERS = [7, 8, 9, 10, 11, 12] as const;

/** Students per home group; KGC keys allow at most 26 groups per year level (A–Z). */
const HOME_GROUP_SIZE = 25;

/** KSF faculties, weighted by their share of teachers. */
export const FACULTIES: readonly Faculty[] = [
  { key: 'ENG', description: 'English', weight: 16 },
  { key: 'MATH', description: 'Mathematics', weight: 16 },
  { key: 'SCI', description: 'Science', weight: 15 },
  { key: 'HUM', description: 'Humanities', weight: 12 },
  { key: 'LOTE', description: 'Languages', weight: 6 },
  { key: 'ARTS', description: 'The Arts', weight: 9 },
  { key: 'TECH', description: 'Technology', weight: 8 },
  { key: 'HPE', description: 'Health & Physical Education', weight: 10 },
  { key: 'VCE', description: 'VCE & Senior Pathways', weight: 8 },
];

/** [code, long name, short name (≤ 7), faculty, core]. The comma in HPE's name is deliberate. */
const JUNIOR_SUBJECTS: readonly (readonly [string, string, string, string, boolean])[] = [
  ['ENG', 'English', 'English', 'ENG', true],
  ['MAT', 'Mathematics', 'Maths', 'MATH', true],
  ['SCI', 'Science', 'Science', 'SCI', true],
  ['HUM', 'Humanities', 'Hums', 'HUM', true],
  ['HPE', 'Health, PE & Wellbeing', 'HPE', 'HPE', true],
  ['FRE', 'French', 'French', 'LOTE', false],
  ['ITA', 'Italian', 'Italian', 'LOTE', false],
  ['ART', 'Visual Art', 'Art', 'ARTS', false],
  ['MUS', 'Music', 'Music', 'ARTS', false],
  ['DRA', 'Drama', 'Drama', 'ARTS', false],
  ['DIG', 'Digital Technologies', 'DigiTec', 'TECH', false],
  ['FOO', 'Food Technology', 'Food', 'TECH', false],
];

const SENIOR_SUBJECTS: readonly (readonly [string, string, string, string, boolean])[] = [
  ['ENG', 'English', 'English', 'ENG', true],
  ['LIT', 'Literature', 'Lit', 'ENG', false],
  ['MME', 'Mathematical Methods', 'Methods', 'MATH', false],
  ['GMA', 'General Mathematics', 'GenMath', 'MATH', false],
  ['SPE', 'Specialist Mathematics', 'Spec', 'MATH', false],
  ['CHE', 'Chemistry', 'Chem', 'SCI', false],
  ['PHY', 'Physics', 'Physics', 'SCI', false],
  ['BIO', 'Biology', 'Bio', 'SCI', false],
  ['PSY', 'Psychology', 'Psych', 'SCI', false],
  ['HIS', 'History', 'History', 'HUM', false],
  ['LEG', 'Legal Studies', 'Legal', 'HUM', false],
  ['BUS', 'Business Management', 'BusMan', 'HUM', false],
  ['ECO', 'Economics', 'Econ', 'HUM', false],
  ['FRE', 'French', 'French', 'LOTE', false],
  ['VCD', 'Visual Comm. Design', 'VCD', 'ARTS', false],
  ['PED', 'Physical Education', 'PE', 'HPE', false],
  ['SOF', 'Software Development', 'SoftDev', 'TECH', false],
];

const HOUSES: readonly House[] = [
  { key: 'FLI', description: 'Flinders House' },
  { key: 'MEL', description: 'Melba House' },
  { key: 'MON', description: 'Monash House' },
  { key: 'CHI', description: 'Chisholm House' },
];

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `English - Year 7`, `Physics Units 3&4`; shorter forms when SU.FULLNAME's 30 characters are too few. */
function subjectName(name: string, year: number): string {
  const units = year === 11 ? '1&2' : '3&4';
  const forms =
    year <= 10 ? [`${name} - Year ${year}`, `${name} Yr ${year}`] : [`${name} Units ${units}`, `${name} U${units}`];
  return forms.find((f) => f.length <= 30) ?? name.slice(0, 30);
}

function makeSubjects(): Subject[] {
  const subjects: Subject[] = [];
  for (const year of YEAR_NUMBERS) {
    for (const [code, name, short, faculty, core] of year <= 10 ? JUNIOR_SUBJECTS : SENIOR_SUBJECTS) {
      subjects.push({
        key: `${String(year).padStart(2, '0')}${code}`,
        code,
        fullName: subjectName(name, year),
        shortName: `${short} ${year}`.slice(0, 10),
        faculty,
        year,
        core,
        index: subjects.length,
      });
    }
  }
  return subjects;
}

/**
 * A room code for the n-th room: block letter, floor and room (`A101`…`Z310`), then two-letter
 * blocks (`AA10`) once 26 blocks of 30 rooms are used; always at most 4 characters.
 */
export function roomCode(n: number): string {
  const block = Math.floor(n / 30);
  const floor = 1 + Math.floor((n % 30) / 10);
  const room = n % 10;
  if (block < 26) return `${LETTERS[block]}${floor}${String(room + 1).padStart(2, '0')}`;
  const b = block - 26;
  return `${LETTERS[Math.floor(b / 26) % 26]}${LETTERS[b % 26]}${floor}${room}`;
}

/** The most rooms `roomCode` can name uniquely. */
const MAX_ROOMS = 26 * 30 + 26 * 26 * 30;

/** Plans the school for `students` students: deterministic, no randomness needed. */
export function planSchool(school: string, seed: number, students: number): SchoolPlan {
  const campuses: Campus[] =
    students >= 1000
      ? [
          { key: 1, name: 'Junior Campus', type: 'Secondary', years: [7, 8, 9] },
          { key: 2, name: 'Senior Campus', type: 'Secondary', years: [10, 11, 12] },
        ]
      : [{ key: 1, name: 'Main Campus', type: 'Secondary', years: [...YEAR_NUMBERS] }];
  const campusOf = (year: number): number => campuses.find((c) => c.years.includes(year))?.key ?? 1;
  const years: YearLevel[] = YEAR_NUMBERS.map((num) => ({
    key: String(num).padStart(2, '0'),
    num,
    campus: campusOf(num),
  }));

  const perYear = students / YEAR_NUMBERS.length;
  const groupsPerYear = Math.min(LETTERS.length, Math.max(1, Math.ceil(perYear / HOME_GROUP_SIZE)));
  const homeGroups: HomeGroup[] = [];
  const homeGroupsByYear = new Map<number, HomeGroup[]>();
  for (const year of YEAR_NUMBERS) {
    const list: HomeGroup[] = [];
    for (let g = 0; g < groupsPerYear; g++) {
      const hg: HomeGroup = { key: `${year}${LETTERS[g]}`, year, campus: campusOf(year), index: homeGroups.length };
      homeGroups.push(hg);
      list.push(hg);
    }
    homeGroupsByYear.set(year, list);
  }

  const subjects = makeSubjects();
  const subjectsByYear = new Map<number, Subject[]>();
  for (const s of subjects) subjectsByYear.set(s.year, [...(subjectsByYear.get(s.year) ?? []), s]);

  const roomCount = Math.min(MAX_ROOMS, Math.max(homeGroups.length + 10, Math.ceil(students / 20)));
  const rooms: Room[] = [];
  for (let i = 0; i < roomCount; i++) {
    const faculty = FACULTIES[i % FACULTIES.length]?.key ?? 'ENG';
    rooms.push({ code: roomCode(i), faculty, campus: campuses[i % campuses.length]?.key ?? 1, index: i });
  }

  return {
    school,
    seed,
    students,
    schoolName: 'Banksia Park Secondary College',
    campuses,
    years,
    houses: HOUSES,
    homeGroups,
    homeGroupsByYear,
    faculties: FACULTIES,
    subjects,
    subjectsByYear,
    rooms,
    // One teacher per twelve students, up to what SFKEY's four characters can name (the benchmark's
    // million-student school would otherwise run out of keys).
    staffCount: Math.min(MAX_STAFF, Math.max(20, Math.ceil(students / 12))),
  };
}
