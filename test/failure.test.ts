import { describe, expect, it } from 'vitest';

import { EtlError, describeFailure } from '../src/errors/index.js';
import { isRetryableError } from '../src/jobs/index.js';
import { storeFailureKind } from '../src/store/index.js';

describe('describeFailure', () => {
  it("keeps an EtlError's own code, and retries only the codes that clear up by themselves", () => {
    expect(describeFailure(new EtlError('ETL_LAYOUT_INVALID', 'bad layout'))).toEqual({
      code: 'ETL_LAYOUT_INVALID',
      retry: false,
      reason: 'bad layout',
    });
    expect(describeFailure(new EtlError('ETL_RUN_LOCKED', 'busy')).retry).toBe(true);
    expect(describeFailure(new EtlError('ETL_SOURCE_NOT_FOUND', 'share down')).retry).toBe(true);
  });

  it('calls a connection failure database unavailable, and retries it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    expect(describeFailure(refused, storeFailureKind)).toMatchObject({ code: 'ETL_DB_UNAVAILABLE', retry: true });
    expect(
      describeFailure(
        Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
        storeFailureKind,
      ),
    ).toMatchObject({ code: 'ETL_DB_UNAVAILABLE', retry: true });
    expect(
      describeFailure(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), storeFailureKind),
    ).toMatchObject({ code: 'ETL_DB_UNAVAILABLE', retry: true });
  });

  it('calls an unknown database or refused credentials unavailable, without retrying', () => {
    for (const code of ['3D000', '28P01', '28000']) {
      expect(describeFailure(Object.assign(new Error('refused'), { code }), storeFailureKind)).toEqual({
        code: 'ETL_DB_UNAVAILABLE',
        retry: false,
        reason: 'the database refused the connection: refused',
      });
    }
  });

  it('names a file-system failure as such, not as the database', () => {
    const gone = Object.assign(new Error("ENOENT: no such file or directory, open '/x/ST_8865.csv'"), {
      code: 'ENOENT',
      syscall: 'open',
      errno: -2,
    });
    expect(describeFailure(gone, storeFailureKind).code).toBe('ETL_SOURCE_UNREADABLE');
  });

  it('records what nobody foresaw as ETL_INTERNAL with its message, and never retries it', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'length')");
    expect(describeFailure(bug, storeFailureKind)).toEqual({
      code: 'ETL_INTERNAL',
      retry: false,
      reason: "internal error: Cannot read properties of undefined (reading 'length')",
    });
    // A database error that is not about reaching it (here: a column that does not exist) is a bug too.
    expect(
      describeFailure(Object.assign(new Error('column "x" does not exist'), { code: '42703' }), storeFailureKind).code,
    ).toBe('ETL_INTERNAL');
    expect(isRetryableError(bug)).toBe(false);
    expect(isRetryableError(new EtlError('ETL_DB_UNAVAILABLE', 'down'))).toBe(true);
  });
});
