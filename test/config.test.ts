import { describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/index.js';
import { isEtlError } from '../src/errors/index.js';

describe('configuration', () => {
  it('has defaults that work with no environment at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      sourceDirectory: null,
      relationshipsExplicit: false,
      schoolId: null,
      requiredTables: ['ST', 'SF'],
      maxErrorRate: 0.1,
      fileStableMs: 2000,
    });
    expect(config.relationshipsPath.endsWith('relationships.json')).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the seed names and lets the command line win', () => {
    const config = loadConfig(
      { CASES_DIRECTORY: '/mnt/cases-nightly/', CASES_SCHOOL_ID: '8865', ETL_REQUIRED_TABLES: 'st, sf,KGC' },
      { sourceDirectory: '/tmp/x', schoolId: '0123' },
    );
    expect(config).toMatchObject({ sourceDirectory: '/tmp/x', schoolId: '0123', requiredTables: ['ST', 'SF', 'KGC'] });
  });

  it('reports every problem at once', () => {
    let err: unknown;
    try {
      loadConfig({
        ETL_MAX_ERROR_RATE: '10%',
        ETL_FILE_STABLE_MS: '-1',
        ETL_REQUIRED_TABLES: 'ST,S F',
        CASES_SCHOOL_ID: '88/65',
      });
    } catch (e) {
      err = e;
    }
    expect(isEtlError(err, 'ETL_CONFIG_INVALID')).toBe(true);
    expect(isEtlError(err) && err.problems).toEqual([
      'CASES_SCHOOL_ID="88/65" must be letters and digits only (e.g. 8865)',
      'ETL_REQUIRED_TABLES has "S F", which is not a table name (e.g. ST,SF)',
      'ETL_FILE_STABLE_MS="-1" must be a whole number of 0 or more',
      'ETL_MAX_ERROR_RATE="10%" must be a number from 0 to 1 (e.g. 0.10)',
    ]);
  });

  it("allows the listen address, loopback names and ETL_PUBLIC_URL's host by default, or the hosts named", () => {
    expect(loadConfig({}).http).toMatchObject({ publicUrl: null, allowedHosts: ['127.0.0.1', 'localhost', '::1'] });
    const behindProxy = loadConfig({ HOST: '0.0.0.0', ETL_PUBLIC_URL: 'https://ETL.School.example:8443/cases' });
    expect(behindProxy.http).toMatchObject({
      publicUrl: 'https://etl.school.example:8443/cases',
      allowedHosts: ['localhost', '127.0.0.1', '::1', 'etl.school.example'],
    });
    expect(loadConfig({ HOST: 'etl.lan' }).http.allowedHosts).toEqual(['etl.lan', 'localhost', '127.0.0.1', '::1']);
    expect(loadConfig({ ETL_ALLOWED_HOSTS: 'etl.lan:3000, [::1], Example.org' }).http.allowedHosts).toEqual([
      'etl.lan',
      '::1',
      'example.org',
    ]);
    expect(loadConfig({ ETL_ALLOWED_HOSTS: '*' }).http.allowedHosts).toBeNull();
    let err: unknown;
    try {
      loadConfig({ ETL_PUBLIC_URL: 'etl.school.example', ETL_ALLOWED_HOSTS: 'etl.lan,bad host' });
    } catch (e) {
      err = e;
    }
    expect(isEtlError(err) && err.problems).toEqual([
      'ETL_PUBLIC_URL="etl.school.example" must be an http:// or https:// URL (e.g. https://etl.school.vic.edu.au/)',
      'ETL_ALLOWED_HOSTS="etl.lan,bad host" must be host names separated by commas (e.g. etl.school.lan,localhost), or *',
    ]);
  });
});
