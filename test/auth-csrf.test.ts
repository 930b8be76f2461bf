import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';

import { assertCsrf } from '../src/http/auth/csrf.js';

/**
 * The CSRF rule for requests signed in by cookie: a request that changes data carries the
 * session's token, except Bull Board's own (under /admin/queues/), which cannot, and are taken
 * when the browser's Origin names this server. The API never takes an Origin in place of the token.
 */
const request = (method: string, url: string, headers: Record<string, string>): FastifyRequest =>
  ({ method, url, headers: { host: 'etl.school.vic.edu.au', ...headers } }) as unknown as FastifyRequest;

const refused = (req: FastifyRequest): string | null => {
  try {
    assertCsrf(req, 'the-session-token');
    return null;
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('CSRF for cookie sessions', () => {
  it('asks every POST for the token, and lets reads through', () => {
    expect(refused(request('GET', '/api/cases-etl/runs', {}))).toBeNull();
    expect(refused(request('POST', '/api/cases-etl/trigger', {}))).toBe('ETL_AUTH_CSRF');
    expect(refused(request('POST', '/api/cases-etl/trigger', { 'x-csrf-token': 'a-guess' }))).toBe('ETL_AUTH_CSRF');
    expect(refused(request('POST', '/api/cases-etl/trigger', { 'x-csrf-token': 'the-session-token' }))).toBeNull();
    // The API's POSTs need the token even from this server's own pages.
    const own = { origin: 'https://etl.school.vic.edu.au' };
    expect(refused(request('POST', '/api/cases-etl/trigger', own))).toBe('ETL_AUTH_CSRF');
  });

  it("takes Bull Board's requests from this server's pages, and no other's", () => {
    const board = '/admin/queues/api/queues/cases-etl/retry/failed';
    expect(refused(request('PUT', board, { origin: 'https://etl.school.vic.edu.au' }))).toBeNull();
    expect(refused(request('PUT', board, { origin: 'https://evil.example' }))).toBe('ETL_AUTH_CSRF');
    expect(refused(request('PUT', board, { origin: 'null' }))).toBe('ETL_AUTH_CSRF');
    expect(refused(request('PUT', board, {}))).toBe('ETL_AUTH_CSRF');
    expect(refused(request('DELETE', board, { 'x-csrf-token': 'the-session-token' }))).toBeNull();
  });
});
