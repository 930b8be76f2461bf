/** A converted CASES value as it is hashed, stored and compared: text, a number, or null for empty. */
export type Value = string | number | null;
