import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The sign-in cookie: a small JSON value sealed with AES-256-GCM, so the browser can neither read
 * nor change it, and the server keeps no session table. The key comes from ETL_SESSION_SECRET, or
 * is random for this process (sessions then end when serve restarts, and several serve processes
 * behind one name would not share them: set the secret for that).
 */

/** The session cookie's name. */
export const SESSION_COOKIE = 'cases-etl-session';
/** The cookie that carries a sign-in from /auth/login to /auth/callback. */
export const SIGN_IN_COOKIE = 'cases-etl-sign-in';
/** How long a session lasts, in seconds: a working day. */
export const SESSION_SECONDS = 8 * 3600;
/** How long a sign-in may take at the issuer, in seconds. */
export const SIGN_IN_SECONDS = 10 * 60;

export interface Sealer {
  /** `value` sealed, expiring `seconds` from now. */
  seal(value: object, seconds: number): string;
  /** The value sealed in `text`, or null when it is not one of ours or has expired. */
  open<T>(text: string): T | null;
}

export function createSealer(secret: string | null): Sealer {
  // A purpose in the hash: the same secret set elsewhere never yields this key.
  const key = secret === null ? randomBytes(32) : createHash('sha256').update(`cases-etl session\0${secret}`).digest();
  return {
    seal(value, seconds) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = JSON.stringify({ v: value, exp: Math.floor(Date.now() / 1000) + seconds });
      const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    open<T>(text: string): T | null {
      try {
        const raw = Buffer.from(text, 'base64url');
        if (raw.length < 29) return null;
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
        const { v, exp } = JSON.parse(plain) as { v: T; exp: number };
        return exp > Date.now() / 1000 ? v : null;
      } catch {
        // Tampered, sealed with another key (a restart), or not ours: no session.
        return null;
      }
    },
  };
}

/** The value of cookie `name` in the request's Cookie header, or null. */
export function readCookie(req: FastifyRequest, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

export interface CookieOptions {
  /** Lifetime in seconds; 0 removes the cookie. */
  readonly maxAge: number;
  /** Secure: only over https (set when ETL_PUBLIC_URL or the request is https). */
  readonly secure: boolean;
  readonly path: string;
}

/**
 * Sets a cookie: HttpOnly (no script reads it), SameSite=Lax (a cross-site POST carries none, and
 * the issuer's redirect back, a top-level GET, does). Fastify appends each Set-Cookie header, so
 * one answer can set several.
 */
export function setCookie(reply: FastifyReply, name: string, value: string, o: CookieOptions): void {
  const parts = [`${name}=${value}`, `Path=${o.path}`, `Max-Age=${o.maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (o.secure) parts.push('Secure');
  void reply.header('set-cookie', parts.join('; '));
}
