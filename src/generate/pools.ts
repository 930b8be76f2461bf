/**
 * Word lists the sample school is drawn from. Names are grouped by family background so that a
 * family's surname, given names, country of birth and home language agree. Several names carry
 * characters outside ASCII that Windows-1252 can hold (Zoë, José, Søren, Žagar, Nataša…), and a
 * few carry apostrophes (O'Brien), because real exports do and the parser must cope with them.
 */

export interface Background {
  readonly id: string;
  /** Relative share of families. */
  readonly weight: number;
  /** KGT.COUNTRY (SACC code) for people born overseas with this background. */
  readonly country: string;
  /** Home language (ASCL code); 1201 is English. */
  readonly language: string;
  readonly surnames: readonly string[];
  readonly female: readonly string[];
  readonly male: readonly string[];
}

/** KGT country code (SACC) for Australia, the UM.COUNTRY default. */
export const AUSTRALIA = '1101';
/** Language code (ASCL) for English. */
export const ENGLISH = '1201';

/** Family backgrounds, about the mix of a school in Melbourne's south-east. */
export const BACKGROUNDS: readonly Background[] = [
  {
    id: 'anglo',
    weight: 50,
    country: '2102',
    language: ENGLISH,
    surnames: [
      'Smith',
      'Jones',
      'Williams',
      'Brown',
      'Wilson',
      'Taylor',
      'Johnson',
      'White',
      'Martin',
      'Anderson',
      'Thompson',
      'Walker',
      'Harris',
      'Ryan',
      'Kelly',
      "O'Brien",
      "O'Connor",
      "O'Neill",
      'McDonald',
      'MacKenzie',
      'Campbell',
      'Stewart',
      'Murphy',
      'Robinson',
      'Clarke',
      'Mitchell',
      'Hughes',
      'Evans',
      'Davies',
      'Fitzgerald-Jones',
      'Baker',
      'Wood',
    ],
    female: [
      'Olivia',
      'Charlotte',
      'Amelia',
      'Isla',
      'Mia',
      'Ava',
      'Grace',
      'Chloe',
      'Zoë',
      'Renée',
      'Ruby',
      'Sophie',
      'Harper',
      'Matilda',
      'Ella',
      'Sienna',
      'Lily',
      'Hannah',
      'Emily',
      'Siân',
      'Siobhán',
      'Elizabeth',
      'Jessica',
      'Sarah',
    ],
    male: [
      'Oliver',
      'Noah',
      'Jack',
      'William',
      'Henry',
      'Leo',
      'Thomas',
      'James',
      'Lachlan',
      'Charlie',
      'Lucas',
      'Harrison',
      'Cooper',
      'Riley',
      'Robert',
      'Alexander',
      'Samuel',
      'Benjamin',
      'Joshua',
      'Ethan',
      'Seán',
      'Daniel',
      'Matthew',
    ],
  },
  {
    id: 'italian',
    weight: 6,
    country: '3104',
    language: '2401',
    surnames: [
      'Rossi',
      'Russo',
      'Romano',
      'Colombo',
      'Ferrari',
      'Esposito',
      'Bianchi',
      "D'Angelo",
      'De Luca',
      'Santoro',
      'Lombardi',
      'Moretti',
    ],
    female: ['Giulia', 'Francesca', 'Chiara', 'Sofia', 'Alessia', 'Martina'],
    male: ['Luca', 'Marco', 'Matteo', 'Giuseppe', 'Alessandro', 'Niccolò'],
  },
  {
    id: 'greek',
    weight: 5,
    country: '3207',
    language: '2201',
    surnames: ['Papadopoulos', 'Nikolaidis', 'Georgiou', 'Konstantinidis', 'Dimitriou', 'Pappas', 'Christodoulou'],
    female: ['Eleni', 'Maria', 'Sofia', 'Katerina', 'Despina'],
    male: ['Nikolaos', 'Georgios', 'Dimitrios', 'Konstantinos', 'Yiannis'],
  },
  {
    id: 'vietnamese',
    weight: 7,
    country: '5105',
    language: '6302',
    surnames: ['Nguyen', 'Tran', 'Le', 'Pham', 'Huynh', 'Phan', 'Vu', 'Vo', 'Dang', 'Bui', 'Do', 'Ho', 'Ngo', 'Duong'],
    female: ['Linh', 'Mai', 'Thao', 'Ngoc', 'Anh', 'Trang'],
    male: ['Minh', 'Huy', 'Khoa', 'Duc', 'Long', 'Bao'],
  },
  {
    id: 'chinese',
    weight: 8,
    country: '6101',
    language: '7104',
    surnames: ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu', 'Sun', 'Ma', 'Zhu'],
    female: ['Xin', 'Mei', 'Yue', 'Jing', 'Wen', 'Ying'],
    male: ['Wei', 'Hao', 'Jun', 'Yi', 'Jian', 'Zhi'],
  },
  {
    id: 'indian',
    weight: 8,
    country: '7103',
    language: '5203',
    surnames: ['Patel', 'Singh', 'Sharma', 'Kumar', 'Gupta', 'Shah', 'Reddy', 'Iyer', 'Khan', 'Mehta'],
    female: ['Priya', 'Ananya', 'Aisha', 'Diya', 'Kavya', 'Saanvi'],
    male: ['Arjun', 'Rohan', 'Aarav', 'Vihaan', 'Ishaan', 'Rahul'],
  },
  {
    id: 'lebanese',
    weight: 4,
    country: '4208',
    language: '4202',
    surnames: ['Haddad', 'Khoury', 'Saleh', 'Nasser', 'El-Masri', 'Hassan', 'Ibrahim', 'Abboud'],
    female: ['Layla', 'Noor', 'Yasmin', 'Mariam', 'Zahra'],
    male: ['Omar', 'Ali', 'Karim', 'Youssef', 'Hamza'],
  },
  {
    id: 'nordic',
    weight: 2,
    country: '2401',
    language: '1501',
    surnames: ['Søndergaard', 'Jensen', 'Björk', 'Lindqvist', 'Østergaard', 'Andersson', 'Hansen'],
    female: ['Ingrid', 'Astrid', 'Freja', 'Signe', 'Åsa'],
    male: ['Søren', 'Björn', 'Lars', 'Anders', 'Mikkel'],
  },
  {
    id: 'french',
    weight: 2,
    country: '2303',
    language: '2101',
    surnames: ['Lefèvre', 'Dubois', 'Moreau', 'Girard', 'Fontaine', 'Bérubé', 'Lambert', 'Rousseau'],
    female: ['Chloé', 'Renée', 'Amélie', 'Léa', 'Camille', 'Anaïs', 'Maëlle'],
    male: ['François', 'Jérôme', 'Théo', 'Hugo', 'Étienne', 'Noël'],
  },
  {
    id: 'spanish',
    weight: 2,
    country: '3108',
    language: '2303',
    surnames: ['García', 'Fernández', 'López', 'Martínez', 'Gómez', 'Núñez', 'Sánchez', 'Pérez', 'Muñoz'],
    female: ['Lucía', 'María', 'Inés', 'Sofía', 'Begoña'],
    male: ['José', 'Andrés', 'Joaquín', 'Raúl', 'Íñigo'],
  },
  {
    // Š, š, Ž and ž sit in the 0x80–0x9F block that differs between Windows-1252 and Latin-1.
    id: 'slovenian',
    weight: 1,
    country: '3211',
    language: '3505',
    surnames: ['Žagar', 'Škof', 'Horvat', 'Novak', 'Zupan', 'Šuštar'],
    female: ['Ana', 'Nataša', 'Maja', 'Špela', 'Živa'],
    male: ['Luka', 'Matej', 'Tomaž', 'Žiga', 'Jure'],
  },
  {
    id: 'german',
    weight: 2,
    country: '2304',
    language: '1301',
    surnames: ['Müller', 'Schröder', 'Fischer', 'Köhler', 'Schäfer', 'Becker', 'Wagner'],
    female: ['Hanna', 'Lena', 'Jördis', 'Käthe'],
    male: ['Jürgen', 'Lukas', 'Jörg', 'Felix'],
  },
];

/** Countries the sample uses, for KGT: [SACC code, description, English speaking]. */
export const COUNTRIES: readonly (readonly [string, string, boolean])[] = [
  [AUSTRALIA, 'Australia', true],
  ['1201', 'New Zealand', true],
  ['2102', 'England', true],
  ['2303', 'France', false],
  ['2304', 'Germany', false],
  ['2401', 'Denmark', false],
  ['3104', 'Italy', false],
  ['3108', 'Spain', false],
  ['3207', 'Greece', false],
  ['3211', 'Slovenia', false],
  ['4208', 'Lebanon', false],
  ['5105', 'Viet Nam', false],
  ['6101', 'China (excludes SARs and Taiwan)', false],
  ['7103', 'India', false],
  ['8104', 'United States of America', true],
  ['9225', 'South Africa', true],
];

/** Given name → familiar form, used for PREF_NAME and the occasional nickname in NOTES. */
export const NICKNAMES: Readonly<Record<string, string>> = {
  Robert: 'Bob',
  William: 'Will',
  Alexander: 'Alex',
  Elizabeth: 'Lizzie',
  Thomas: 'Tom',
  Samuel: 'Sam',
  Benjamin: 'Ben',
  Matthew: 'Matt',
  Joshua: 'Josh',
  Daniel: 'Dan',
  Jessica: 'Jess',
  Nikolaos: 'Nick',
  Georgios: 'George',
  Konstantinos: 'Con',
  Alessandro: 'Alex',
  Giuseppe: 'Joe',
  Katerina: 'Kat',
  Francesca: 'Frankie',
  Charlotte: 'Lottie',
  Matilda: 'Tilly',
};

/** Street names for UM.ADDRESS01 (one has an apostrophe). */
export const STREETS: readonly string[] = [
  'Smith Street',
  'High Street',
  'Springvale Road',
  'Ferntree Gully Road',
  'Blackburn Road',
  'Waverley Road',
  'Jells Road',
  'Wellington Road',
  'Police Road',
  'Monash Drive',
  'Lum Road',
  'Bellbird Court',
  'Banksia Crescent',
  'Wattle Grove',
  'Acacia Avenue',
  'Hawthorn Grove',
  'Kingsway',
  'Stephensons Road',
  'Huntingdale Road',
  "St John's Avenue",
  'Gallaghers Road',
  'Lawrence Road',
  'Park Lane',
  'Riverside Drive',
  'Golf Links Avenue',
  'Forster Road',
  'Centre Road',
  'Dandenong Road',
];

/** Suburbs around the sample school: [name, postcode, latitude, longitude]. */
export const SUBURBS: readonly (readonly [string, string, number, number])[] = [
  ['Mulgrave', '3170', -37.928, 145.17],
  ['Glen Waverley', '3150', -37.878, 145.164],
  ['Wheelers Hill', '3150', -37.908, 145.189],
  ['Clayton', '3168', -37.915, 145.129],
  ['Notting Hill', '3168', -37.904, 145.142],
  ['Oakleigh', '3166', -37.9, 145.089],
  ['Mount Waverley', '3149', -37.877, 145.128],
  ['Vermont South', '3133', -37.857, 145.182],
  ['Burwood East', '3151', -37.854, 145.149],
  ['Springvale', '3171', -37.949, 145.153],
  ['Dandenong North', '3175', -37.961, 145.216],
  ['Rowville', '3178', -37.929, 145.233],
  ['Scoresby', '3179', -37.9, 145.232],
  ['Noble Park', '3174', -37.967, 145.176],
  ['Clarinda', '3169', -37.937, 145.103],
];

/** DF.OCCUPATION_A/B (at most 35 characters). */
export const OCCUPATIONS: readonly string[] = [
  'Registered Nurse',
  'Accountant',
  'Software Engineer',
  'Electrician',
  'Teacher',
  'Retail Manager',
  'Home Duties',
  'Pharmacist',
  'Plumber',
  'Civil Engineer',
  'Chef',
  'Real Estate Agent',
  'Truck Driver',
  'Dentist',
  'Public Servant',
  'Self Employed',
  'Solicitor',
  'Carpenter',
  'Medical Practitioner',
  'Administration Officer',
];

/** DF.EMPLOYER_A/B (at most 30 characters; one has an ampersand). */
export const EMPLOYERS: readonly string[] = [
  'Monash Health',
  'Dept of Education',
  'Telstra',
  'Coles Group',
  'Woolworths',
  'Self-employed',
  'Monash University',
  'Eastern Health',
  'Bunnings',
  'ANZ Bank',
  'City of Monash',
  'Smith & Sons Pty Ltd',
  'Deloitte',
  'Bupa Aged Care',
];

/** Mail domains for parents' addresses. */
export const E_MAIL_DOMAINS: readonly string[] = [
  'gmail.com',
  'outlook.com',
  'bigpond.com',
  'icloud.com',
  'hotmail.com',
  'optusnet.com.au',
];

/**
 * Free-text memo values (ST.NOTES here; the lists below are for other memo columns). Some hold
 * commas, double quotes, a curly apostrophe or an en dash (Windows-1252 0x92 / 0x96), and some
 * hold CRLF line breaks, as notes typed into CASES21 do.
 */
export const STUDENT_NOTES: readonly string[] = [
  'Collected by grandparent on Tuesdays.',
  'Parents separated, both receive reports.',
  'Enrolment documents sighted.\r\nBirth certificate copy on file.',
  'Transferred from a school in NSW, records requested.',
  'Mum’s mobile preferred for contact – not the landline.',
  'Needs extra time in tests, see ILP.\r\nReviewed at SSG meeting, term 2.',
  'Sibling attends the junior campus; "buddy" program 2023.',
];

/** ST.ACTIVITY_RESTRICTION memos. */
export const MEDICAL_NOTES: readonly string[] = [
  'Asthma, reliever in bag.\r\nAction plan on file.',
  'Anaphylaxis (peanuts, tree nuts). EpiPen in sick bay.',
  'Type 1 diabetes, see management plan.\r\nMay eat in class.',
  'Mild hay fever; no restrictions.',
  'No contact sports until cleared by GP, "fractured wrist" 2024.',
];

/** EMERG_CONTACT_MEMO01 memos (ST, DF). */
export const EMERGENCY_MEMOS: readonly string[] = [
  'Call mobile first, then work.',
  'Aunt, lives nearby; can collect.',
  'Grandmother – speaks limited English.\r\nUse interpreter if needed.',
  'Work hours 9–5, Mon–Fri.',
];

/** SF.NOTES memos. */
export const STAFF_NOTES: readonly string[] = [
  'Year level coordinator, 2023–2024.',
  'Part-time: Mon, Wed, Fri.',
  'On leave term 4.\r\nReplacement: CRT booked.',
  'First aid officer; "Level 2" current.',
];

/** SF.SKILL_QUALIFICATION memos. */
export const SKILLS: readonly string[] = [
  'First Aid Level 2, CPR',
  'Anaphylaxis management (22303VIC)',
  'Bus licence, camps coordinator',
  'Musician: piano, violin.\r\nAccompanies school choir.',
];

/** DF.BILLING_MEMO memos. */
export const BILLING_MEMOS: readonly string[] = [
  'Payment plan agreed: $50 per fortnight.',
  'CSEF applied, term 1.',
  'Invoice to both parents, 50/50 split.\r\nSee email of 3/02/2024.',
  'Paid in full – thank you.',
];

/** STMA.COMMENTA report comments. */
export const REPORT_COMMENTS: readonly string[] = [
  'A consistent, hard-working student.',
  'Shows "real flair" for problem solving.',
  'Needs to complete homework on time.\r\nGood participation in class.',
  'Excellent results, well done.',
];

/** SM.COMMENTA memos. */
export const ROOM_COMMENTS: readonly string[] = [
  'Projector, 30 laptops.',
  'Fume cupboard, gas taps; "no food" policy.',
  'Shared with VCE, bookings via office.\r\nKey at front desk.',
];
