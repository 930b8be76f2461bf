import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import pg from 'pg';

import { createRowHasher } from '../../src/load/index.js';
import { type MirrorTable } from '../../src/schema/index.js';
import { createPostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/index.js';
import type { NewRun, RunOutcome, StagedRow } from '../../src/store/types.js';
import { KEY_SEPARATOR, type Value } from '../../src/validate/index.js';

/** The machine's PostgreSQL test database (trust auth), overridable for CI. */
const BASE_URL = process.env.CASES_ETL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PgSchema {
  /** Connection URL of the test database. */
  readonly url: string;
  /** The fresh schema, unique to this call. */
  readonly schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a uniquely named schema in the test database, so each test file (or test) has its own
 * tables and ledger while sharing one server; `drop()` removes it with CASCADE.
 */
export async function createPgSchema(): Promise<PgSchema> {
  const schema = `cases_etl_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient((c) => c.query(`CREATE SCHEMA "${schema}"`));
  return {
    url: BASE_URL,
    schema,
    drop: () => withClient(async (c) => void (await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))),
  };
}

/** A plain connection into `schema`, for reading what a store wrote independently of the store. */
export async function connectProbe(target: { url: string; schema: string }): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  await client.query(`SET search_path TO "${target.schema}"`);
  return client;
}

/** A test file's PostgreSQL: a fresh schema, a migrated store on it, and a probe connection into it. */
export interface PgStoreFile {
  readonly target: PgSchema;
  readonly store: Store;
  readonly probe: pg.Client;
}

/** Opens a PgStoreFile, for a test file's beforeAll. */
export async function openPgStore(): Promise<PgStoreFile> {
  const target = await createPgSchema();
  const store = createPostgresStore(target.url, target.schema);
  await store.migrate();
  return { target, store, probe: await connectProbe(target) };
}

/** Closes what openPgStore opened (whatever of it was opened), for a test file's afterAll. */
export async function closePgStore(file: Partial<PgStoreFile>): Promise<void> {
  await file.probe?.end();
  await file.store?.close();
  await file.target?.drop();
}

/** Rows for `columns`, keyed and hashed the way the pipeline does it. */
export function stagedRows(
  mirror: MirrorTable,
  columns: readonly string[],
  records: ReadonlyArray<readonly Value[]>,
): StagedRow[] {
  const hasher = createRowHasher(columns);
  const keyIdx = mirror.key.map((k) => columns.indexOf(k));
  return records.map((values) => ({
    key: keyIdx.map((i) => String(values[i])).join(KEY_SEPARATOR),
    values,
    hash: hasher.hash(values),
    line: null,
  }));
}

/** The rows as an async stream of small batches, as a file arrives. */
export async function* batchesOf(rows: readonly StagedRow[], size = 2): AsyncGenerator<readonly StagedRow[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** The outcome of a run that loaded nothing, for the ledger tests: `extra` says what differs. */
export const emptyOutcome = (extra: Partial<RunOutcome> = {}): RunOutcome => ({
  status: 'succeeded',
  finishedAt: new Date(),
  files: 0,
  records: 0,
  rows: 0,
  rejected: 0,
  errorRate: 0,
  inserted: 0,
  updated: 0,
  deactivated: 0,
  reactivated: 0,
  unchanged: 0,
  held: 0,
  deferred: 0,
  filesetSha256: null,
  overrides: [],
  reason: null,
  errorCode: null,
  ...extra,
});

/** A run as a scheduled job on this host would start it, for the ledger tests. */
export const newRun = (school: string, extra: Partial<NewRun> = {}): NewRun => ({
  school,
  trigger: 'schedule',
  jobId: 'job-1',
  dryRun: false,
  sourceDir: '/srv/cases',
  host: hostname(),
  pid: process.pid,
  startedAt: new Date('2025-03-01T02:00:00Z'),
  ...extra,
});
