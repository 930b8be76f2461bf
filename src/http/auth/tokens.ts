import { timingSafeEqual } from 'node:crypto';

import type { NamedToken } from '../../config/index.js';

/** The two roles: a viewer reads (dashboard, runs, health, metrics); an admin also changes data and sees keys. */
export type Role = 'viewer' | 'admin';

/** A constant-time comparison: how long it takes says nothing of how much of a token was right. */
function tokenMatches(given: string, wanted: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(wanted);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The bearer token of an `Authorization: Bearer …` header, or null. */
export function bearerOf(header: string | undefined): string | null {
  if (header === undefined || !/^bearer /i.test(header)) return null;
  const token = header.slice(7).trim();
  return token === '' ? null : token;
}

/**
 * The configured token `given` is, with its role: admin tokens first (a token listed as both is
 * an admin's), then viewer tokens; null when it is none of them.
 */
export function matchToken(
  given: string,
  admins: readonly NamedToken[],
  viewers: readonly NamedToken[],
): { name: string; role: Role } | null {
  const admin = admins.find((t) => tokenMatches(given, t.token));
  if (admin) return { name: admin.name, role: 'admin' };
  const viewer = viewers.find((t) => tokenMatches(given, t.token));
  return viewer ? { name: viewer.name, role: 'viewer' } : null;
}
