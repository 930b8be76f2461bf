/** This release of cases-etl (package.json's version; test/version.test.ts keeps them equal). */
export const VERSION = '0.1.0';
