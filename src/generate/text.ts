import type { Random } from './random.js';

/** Letters with no decomposition under NFD, folded by hand for codes and e-mail addresses. */
const FOLD: Readonly<Record<string, string>> = {
  Ø: 'O',
  ø: 'o',
  Æ: 'AE',
  æ: 'ae',
  ß: 'ss',
  Œ: 'OE',
  œ: 'oe',
  Đ: 'D',
  đ: 'd',
};

const lettersCache = new Map<string, string>();

/**
 * `Søren O'Brien-Núñez` → `SorenOBrienNunez`: ASCII letters only, for keys and mailbox names.
 * Names come from fixed lists, so results are cached (normalize() is slow in a 1,000,000-row loop).
 */
export function asciiLetters(text: string): string {
  let letters = lettersCache.get(text);
  if (letters === undefined) {
    letters = foldLetters(text);
    if (lettersCache.size < 10_000) lettersCache.set(text, letters);
  }
  return letters;
}

function foldLetters(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[ØøÆæßŒœĐđ]/g, (ch) => FOLD[ch] ?? '')
    .replace(/[^A-Za-z]/g, '');
}

/** Cuts `text` to at most `max` characters, dropping a trailing space left by the cut. */
export function fit(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max).trimEnd();
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** An Australian mobile number as people type it: `0412 345 678`. */
export function mobileNumber(random: Random): string {
  return `04${pad(random.int(100), 2)} ${pad(random.int(1000), 3)} ${pad(random.int(1000), 3)}`;
}

/** A Melbourne landline: `03 9561 2345`. */
export function landline(random: Random): string {
  return `03 9${pad(random.int(1000), 3)} ${pad(random.int(10000), 4)}`;
}

/** A string of `n` random digits. */
export function digits(random: Random, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(random.int(10));
  return out;
}

/** Luhn check digit for a string of digits (BPAY customer reference numbers use a check digit). */
export function luhnDigit(numberText: string): string {
  let sum = 0;
  for (let i = 0; i < numberText.length; i++) {
    let d = numberText.charCodeAt(numberText.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/**
 * Hands out unique codes such as STKEY (`SMI0001`), DFKEY and SFKEY. CASES21 builds these from
 * the surname; a counter per prefix keeps them unique at any volume (a fifth digit appears only
 * past 9999 people sharing a prefix, which still fits in 10 characters).
 */
export interface CodeAllocator {
  /** The next code for this prefix: `SMI` → `SMI0001`, `SMI0002`, … */
  next(prefix: string): string;
}

/** A per-prefix numbering allocator; `digitsWidth` is the minimum number width. */
export function createCodeAllocator(digitsWidth: number): CodeAllocator {
  const counters = new Map<string, number>();
  return {
    next(prefix) {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return prefix + pad(n, digitsWidth);
    },
  };
}

/**
 * The three-letter prefix CASES21-style codes start with: the first letters of the surname, made
 * up to three from the given name for short surnames (`Le`, `Wu`). Always upper-case A–Z.
 */
export function namePrefix(surname: string, given: string): string {
  const letters = (asciiLetters(surname) + asciiLetters(given) + 'XXX').toUpperCase();
  return letters.slice(0, 3);
}
