import { SCHOOL_YEAR_START } from '../calendar.js';
import type { CsvTableWriter } from '../csv-writer.js';
import type { Adult, Family } from '../people.js';
import {
  AUSTRALIA,
  BILLING_MEMOS,
  EMERGENCY_MEMOS,
  EMPLOYERS,
  E_MAIL_DOMAINS,
  OCCUPATIONS,
  STREETS,
  SUBURBS,
} from '../pools.js';
import { createRandom, type Random } from '../random.js';
import type { StaffMember } from '../staff.js';
import { asciiLetters, digits, fit, landline, luhnDigit, mobileNumber } from '../text.js';
import { commitRow, setLastWrite, type SchoolContext } from './common.js';

/**
 * Families (DF) and addresses (UM), written side by side: each family's home address (and, for
 * some, a separate postal address) gets the next UMKEY as the family is written, so DF.HOMEKEY
 * and MAILKEY always name a UM row. Staff home addresses follow the families' in UM.
 */

/** Fills the open UM row with a home (street) or postal (PO Box) address in a nearby suburb. */
function fillAddress(um: CsvTableWriter, key: number, random: Random, postal: boolean): void {
  const [suburb, postcode, lat, lon] = random.pick(SUBURBS);
  const r = um.row;
  r.int('UMKEY', key);
  if (postal) {
    r.text('ADDRESS01', `PO Box ${1 + random.int(900)}`);
  } else {
    const street = `${1 + random.int(180)} ${random.pick(STREETS)}`;
    // "Unit 3, 12 Smith Street": the comma makes the field quoted.
    const unit = random.chance(0.25) ? `Unit ${1 + random.int(12)}, ${street}` : street;
    r.text('ADDRESS01', unit.length <= 30 ? unit : street);
  }
  r.text('ADDRESS02', suburb);
  r.text('STATE', 'VIC');
  r.text('POSTCODE', postcode);
  if (!postal && random.chance(0.55)) r.text('TELEPHONE', landline(random));
  r.text('SILENT', random.chance(0.05) ? 'Y' : 'N');
  r.text('COUNTRY', AUSTRALIA);
  if (!postal) {
    r.int('DPID', 30_000_000 + random.int(69_999_999));
    r.float('LATITUDE', lat + (random.next() - 0.5) * 0.02, 6);
    r.float('LONGITUDE', lon + (random.next() - 0.5) * 0.02, 6);
  }
  setLastWrite(r, random, SCHOOL_YEAR_START - 365);
}

function mailbox(adult: Adult, random: Random): string {
  const local =
    `${asciiLetters(adult.given)}.${asciiLetters(adult.surname)}${random.chance(0.4) ? random.int(100) : ''}`.toLowerCase();
  return fit(`${local}@${random.pick(E_MAIL_DOMAINS)}`, 60);
}

/** One adult's DF columns, suffix `A` or `B`. */
function fillAdult(df: CsvTableWriter, family: Family, adult: Adult, suffix: 'A' | 'B', random: Random): void {
  const r = df.row;
  const country = adult.bornOverseas ? family.background.country : AUSTRALIA;
  r.text(`NAME_${suffix}`, adult.given);
  r.text(`SURNAME_${suffix}`, adult.surname.toUpperCase());
  r.text(`TITLE_${suffix}`, adult.title);
  r.text(`WORK_CONT_${suffix}`, random.chance(0.7) ? 'Y' : 'N');
  r.text(`OCCUPATION_${suffix}`, random.pick(OCCUPATIONS));
  if (random.chance(0.6)) r.text(`EMPLOYER_${suffix}`, random.pick(EMPLOYERS));
  r.text(`NATIVE_LANG_${suffix}`, family.background.language);
  r.text(`INTERPRETER_${suffix}`, adult.bornOverseas && random.chance(0.08) ? 'Y' : 'N');
  r.text(`BIRTH_COUNTRY_${suffix}`, country);
  r.text(`BH_AT_HOME_${suffix}`, random.chance(0.2) ? 'Y' : 'N');
  r.text(`BH_CONTACT_${suffix}`, mobileNumber(random));
  r.text(`AH_AT_HOME_${suffix}`, 'Y');
  r.text(`E_MAIL_${suffix}`, mailbox(adult, random));
  r.text(`PREF_MAIL_MECH_${suffix}`, random.chance(0.85) ? 'E' : 'M');
  r.text(`GENDER_${suffix}`, adult.gender);
  r.text(`SCH_ED_${suffix}`, String(1 + random.int(4)));
  r.text(`NON_SCH_ED_${suffix}`, random.pick(['0', '5', '6', '7', '8']));
  r.text(`OCCUP_STATUS_${suffix}`, random.pick(['A', 'B', 'C', 'D', 'N', 'U']));
  r.text(`MOBILE_${suffix}`, mobileNumber(random));
  r.text(`SMS_NOTIFY_${suffix}`, 'Y');
  r.text(`E_MAIL_NOTIFY_${suffix}`, 'Y');
}

/** `Ms J O'Brien & Mr D O'Brien` for HOMETITLE and MAILTITLE. */
function addressee(family: Family, width: number): string {
  const one = (a: Adult): string => `${a.title} ${a.given.slice(0, 1)} ${a.surname}`;
  return fit(family.adultB ? `${one(family.adultA)} & ${one(family.adultB)}` : one(family.adultA), width);
}

function fillFamily(
  df: CsvTableWriter,
  family: Family,
  homeKey: number,
  mailKey: number,
  school: string,
  random: Random,
): void {
  const r = df.row;
  r.text('DFKEY', family.key);
  fillAdult(df, family, family.adultA, 'A', random);
  if (family.adultB) fillAdult(df, family, family.adultB, 'B', random);
  r.text('HOMETITLE', addressee(family, 30));
  r.int('HOMEKEY', homeKey);
  r.text('MAILTITLE', addressee(family, 30));
  r.int('MAILKEY', mailKey);
  r.text('BILLINGTITLE', addressee(family, 40));
  r.int('BILLINGKEY', mailKey);
  if (random.chance(0.03)) r.text('BILLING_MEMO', random.pick(BILLING_MEMOS));
  r.int('ACCTYPE', 1);
  const owing = random.chance(0.25) ? Math.round(random.next() * 40_000) / 100 : 0;
  r.money('AGED01', owing);
  for (const col of ['AGED02', 'AGED03', 'AGED04', 'AGED05', 'ALLOCAMT', 'OPBAL'] as const) r.money(col, 0);
  r.money('CHARGES', 250 + random.int(650) + (random.chance(0.5) ? 0.5 : 0));
  if (random.chance(0.7)) {
    r.money('LASTREC', 50 + random.int(400));
    r.date('LASTRECDATE', SCHOOL_YEAR_START + random.int(180));
  }
  r.money('OPBAL_YEAR', owing > 0 ? owing / 2 : 0);
  const sequence = family.index + 1;
  r.int('BPAY_SEQUENCE', sequence);
  // Unique per family: the school's number space plus the sequence, with a check digit.
  const reference = `${/^\d+$/.test(school) ? school : '9999'}${String(sequence).padStart(7, '0')}`;
  r.text('BPAY_REFERENCE', reference + luhnDigit(reference));
  r.int('NO_STUDENTS', Math.min(32767, family.primeStudents));
  r.int('NO_ASSOC_STUDENTS', Math.min(32767, family.associatedStudents));
  r.text('ACC_DECLARATION', 'Y');
  r.text('AMBULANCE_SUBSCRIBER', random.chance(0.6) ? 'Y' : 'N');
  r.text('MEDICARE_NO', `${2 + random.int(5)}${digits(random, 9)}${1 + random.int(5)}`);
  r.text('HOME_LANG', family.background.language);
  r.text('EMERG_NAME01', fit(`${random.pick(family.background.female)} ${family.surname}`, 30));
  r.text('EMERG_RELATION01', random.pick(['Grandmother', 'Aunt', 'Family friend', 'Neighbour']));
  r.text('EMERG_CONTACT01', mobileNumber(random));
  if (random.chance(0.05)) r.text('EMERG_CONTACT_MEMO01', random.pick(EMERGENCY_MEMOS));
  r.text('TAX_INVOICE', 'N');
  r.text('PREF_EMAIL', 'A');
  r.text('BILLING_EMAIL', mailbox(family.adultA, random));
  r.text('WEB_ENABLED', 'Y');
  setLastWrite(r, random, SCHOOL_YEAR_START - 365);
}

/** Writes DF and the family half of UM; returns the next free UMKEY. */
export async function writeFamilies(
  df: CsvTableWriter,
  um: CsvTableWriter,
  families: readonly Family[],
  ctx: SchoolContext,
): Promise<number> {
  let umKey = 1;
  for (const family of families) {
    const random = createRandom(ctx.plan.seed, 'DF', family.index);
    const homeKey = umKey++;
    fillAddress(um, homeKey, random, false);
    await commitRow(um);
    let mailKey = homeKey;
    if (random.chance(0.08)) {
      mailKey = umKey++;
      fillAddress(um, mailKey, random, true);
      await commitRow(um);
    }
    fillFamily(df, family, homeKey, mailKey, ctx.plan.school, random);
    await commitRow(df);
  }
  return umKey;
}

/**
 * Writes the staff half of UM: staff member i lives at UMKEY `firstKey + i`, which the SF writer
 * uses for HOMEKEY and MAILKEY.
 */
export async function writeStaffAddresses(
  um: CsvTableWriter,
  staff: readonly StaffMember[],
  firstKey: number,
  seed: number,
): Promise<void> {
  for (const s of staff) {
    fillAddress(um, firstKey + s.index, createRandom(seed, 'UM-staff', s.index), false);
    await commitRow(um);
  }
}
