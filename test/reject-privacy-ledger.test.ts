import { open, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { runEtl } from '../src/pipeline/index.js';
import { createPostgresStore } from '../src/store/postgres/index.js';
import { LEDGER as PG_LEDGER, MIGRATIONS as PG_MIGRATIONS } from '../src/store/postgres/ledger.js';
import { createSqliteStore } from '../src/store/sqlite/index.js';
import { LEDGER as SQLITE_LEDGER, MIGRATIONS as SQLITE_MIGRATIONS } from '../src/store/sqlite/ledger.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { copySample, editCsv } from './helpers/nights.js';
import { connectProbe } from './helpers/postgres.js';
import { startMailbox, startWebhook, type Mailbox, type Webhook } from './helpers/receivers.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

/**
 * Issue 23: personal data never leaves the database by accident. An export with one 200 MB line
 * and a few `;`- and tab-delimited lines carrying a planted surname goes through validate, a run
 * (with Slack, Teams and email), `runs --id` and the run API; every answer stays small and none
 * carries the surname, unless an admin asks for the original lines.
 */

const SURNAME = 'QUILLFEATHERSTONE';
const TOKEN = 'an-admin-token-for-the-privacy-tests';
/** The long line's size: 200 MiB and its start. */
const LONG_BYTES = 200 * (1 << 20);
const LONG_START = `LNG0001,${SURNAME},Ann,`;
/** Where the long line and the malformed lines sit in ST_8865.csv (the header is line 1). */
const LONG_LINE = 102;
const MALFORMED = [
  `SMI0009;${SURNAME};Ann;ann.${SURNAME.toLowerCase()}@example.com;12/09/2009 12:00:00 AM;Notes about ${SURNAME}`,
  `SMI0010\t${SURNAME}\tBen\tben@example.com\t13/09/2009 12:00:00 AM`,
  `"SMI0011";"${SURNAME}";"Cal"`,
  `${SURNAME};${SURNAME};${SURNAME}`,
];
const MB = 1 << 20;

let source: { dir: string; cleanup: () => Promise<void> };
let exportDir: string;

/**
 * The sample school with ST_8865.csv rewritten: 100 rows, the long line, the malformed lines, the
 * other 103 rows. Streamed to disk in 1 MiB blocks: the test never holds the long line.
 */
async function writeExport(dir: string): Promise<void> {
  await copySample(dir);
  const path = join(dir, 'ST_8865.csv');
  const lines = (await readFile(path)).toString('latin1').split('\r\n');
  const [header, ...rows] = lines.slice(0, lines[lines.length - 1] === '' ? -1 : undefined);
  const file = await open(path, 'w');
  try {
    const put = (text: string): Promise<unknown> => file.write(Buffer.from(text, 'latin1'));
    await put([header, ...rows.slice(0, LONG_LINE - 2)].join('\r\n') + '\r\n');
    await put(LONG_START);
    const block = Buffer.alloc(MB, 'x');
    for (let left = LONG_BYTES - LONG_START.length; left > 0; left -= block.length)
      await file.write(block.subarray(0, Math.min(left, block.length)));
    await put('\r\n' + [...MALFORMED, ...rows.slice(LONG_LINE - 2)].join('\r\n') + '\r\n');
  } finally {
    await file.close();
  }
  const settled = new Date(Date.now() - 3_600_000);
  await utimes(path, settled, settled);
}

beforeAll(async () => {
  source = await tempDir('cases-etl-privacy-export-');
  exportDir = join(source.dir, 'export');
  await writeExport(exportDir);
}, 120_000);
afterAll(() => source.cleanup());

/** The rejects ST_8865.csv gives: the long line once, then the malformed lines. */
function expectStRejects(rejects: Array<{ line: number; key: string | null; code: string }>): void {
  expect(rejects.map((r) => [r.line, r.key, r.code])).toEqual([
    [LONG_LINE, null, 'ETL_PARSE_LINE_TOO_LONG'],
    [LONG_LINE + 1, null, 'ETL_PARSE_FIELD_COUNT'],
    [LONG_LINE + 2, null, 'ETL_PARSE_FIELD_COUNT'],
    [LONG_LINE + 3, null, 'ETL_PARSE_BAD_QUOTE'],
    [LONG_LINE + 4, null, 'ETL_PARSE_FIELD_COUNT'],
  ]);
}

describe('validate on an export with a 200 MB line and malformed lines', () => {
  it('reports the long line once, loads the lines after it, and prints under 1 MB without the surname', async () => {
    const out = await runCli(['validate', '--source', exportDir, '--json', '--examples', '20'], {});
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.length).toBeLessThan(MB);
    expect(out.stdout).not.toContain(SURNAME);
    expect(out.stdout).not.toContain('xxxxxxxxxx');
    const report = JSON.parse(out.stdout) as {
      schools: Array<{
        files: Array<{
          file: string;
          rows: number;
          rejectsByCode: Record<string, number>;
          keyless: number;
          examples: Array<{ line: number; key: string | null; code: string }>;
        }>;
      }>;
    };
    const st = report.schools[0]?.files.find((f) => f.file === 'ST_8865.csv');
    expect(st).toMatchObject({
      rows: 200,
      keyless: 5,
      rejectsByCode: { ETL_PARSE_LINE_TOO_LONG: 1, ETL_PARSE_FIELD_COUNT: 3, ETL_PARSE_BAD_QUOTE: 1 },
    });
    expectStRejects(st?.examples ?? []);
    const human = await runCli(['validate', '--source', exportDir, '--examples', '20'], {});
    expect(human.stdout.length).toBeLessThan(MB);
    expect(human.stdout).not.toContain(SURNAME);
  }, 120_000);
});

describe.each(DIALECTS)('a run of that export on %s', (dialect) => {
  let target: Target;
  let slack: Webhook;
  let teams: Webhook;
  let mailbox: Mailbox;
  let app: App | undefined;

  beforeEach(async () => {
    target = await createTarget(dialect);
    [slack, teams, mailbox] = await Promise.all([
      startWebhook(),
      startWebhook(() => ({ status: 202 })),
      startMailbox(),
    ]);
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    await Promise.all([slack.close(), teams.close(), mailbox.close(), target.cleanup()]);
  });

  it('keeps every output, answer and message under 1 MB and free of the surname; an admin may ask for the lines', async () => {
    const env = {
      ...target.env,
      CASES_DIRECTORY: exportDir,
      SLACK_WEBHOOK_URL: slack.url,
      TEAMS_WEBHOOK_URL: teams.url,
      ETL_NOTIFICATION_EMAIL: 'it@school.example.edu.au',
      SMTP_URL: mailbox.url,
    };
    const run = await runCli(['run', '--json'], env, target.dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBeLessThan(MB);
    expect(run.stdout).not.toContain(SURNAME);
    const runId = (
      JSON.parse((await runCli(['runs', '--json'], env, target.dir)).stdout) as Array<{ id: number; status: string }>
    )[0]?.id as number;

    // Slack, Teams and email: one message each, small, naming codes and counts only.
    expect([slack.requests.length, teams.requests.length, mailbox.messages.length]).toEqual([1, 1, 1]);
    const payloads = [
      slack.requests[0]?.raw ?? '',
      teams.requests[0]?.raw ?? '',
      JSON.stringify(mailbox.messages[0]?.mail ?? {}),
    ];
    for (const p of payloads) {
      expect(p.length).toBeLessThan(64 * 1024);
      expect(p).not.toContain(SURNAME);
      expect(p).toContain('ETL_PARSE_LINE_TOO_LONG');
    }

    const shown = await runCli(['runs', '--id', String(runId), '--json', '--limit', '1000'], env, target.dir);
    expect(shown.stdout.length).toBeLessThan(MB);
    expect(shown.stdout).not.toContain(SURNAME);
    const detail = JSON.parse(shown.stdout) as {
      run: { status: string; rejected: number };
      rejects: Array<{ file: string; line: number; key: string | null; code: string; originalLine?: string }>;
    };
    expect(detail.run).toMatchObject({ status: 'warning', rejected: 5 });
    expectStRejects(detail.rejects);
    expect(detail.rejects.some((r) => 'originalLine' in r)).toBe(false);
    const table = await runCli(['runs', '--id', String(runId)], env, target.dir);
    expect(table.stdout.length).toBeLessThan(MB);
    expect(table.stdout).not.toContain(SURNAME);

    // The database keeps the start of each line, capped, and each line's full length.
    const probe = await target.probe();
    try {
      const stored = await probe.all(
        'SELECT line, original_line, original_bytes, row_key FROM etl_rejects WHERE run_id = ? ORDER BY line',
        [runId],
      );
      expect(stored.map((r) => [r.line, Number(r.original_bytes)])).toEqual([
        [LONG_LINE, LONG_BYTES],
        ...MALFORMED.map((l, i) => [LONG_LINE + 1 + i, Buffer.byteLength(l)]),
      ]);
      expect(stored[0]?.original_line).toBe(LONG_START + 'x'.repeat(4096 - LONG_START.length));
      expect(stored.slice(1).map((r) => r.original_line)).toEqual(MALFORMED);
    } finally {
      await probe.close();
    }

    // Asked for, by the database's owner: the original lines, capped, with how much was cut.
    const originals = await runCli(['runs', '--id', String(runId), '--original'], env, target.dir);
    expect(originals.stdout.length).toBeLessThan(MB);
    expect(originals.stdout).toContain(SURNAME);
    expect(originals.stdout).toContain(`(4,096 of ${LONG_BYTES.toLocaleString('en-AU')} bytes kept)`);
    expect((await runCli(['runs', '--original'], env, target.dir)).code).toBe(2);

    // The API: open answers are small and carry no values; originals need an admin token.
    // ETL_AUTH=none: reads open and the token for admin routes only (token mode: auth-roles.test.ts).
    app = await createApp(
      target.config({ CASES_DIRECTORY: exportDir, ETL_ADMIN_TOKENS: `ops:${TOKEN}`, ETL_AUTH: 'none' }),
      {
        logger: createLogger({ level: 'silent' }),
      },
    );
    const server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'direct' }) });
    const open = await server.inject({ method: 'GET', url: `/api/cases-etl/runs/${runId}` });
    expect(open.statusCode).toBe(200);
    expect(open.body.length).toBeLessThan(MB);
    expect(open.body).not.toContain(SURNAME);
    expectStRejects(open.json().rejects);
    const concurrent = await Promise.all(
      [1, 2, 3, 4].map(() => server.inject({ method: 'GET', url: `/api/cases-etl/runs/${runId}` })),
    );
    for (const r of concurrent) expect(r.body).toBe(open.body);
    expect((await server.inject({ method: 'GET', url: `/api/cases-etl/runs/${runId}?original=1` })).statusCode).toBe(
      401,
    );
    const wrong = await server.inject({
      method: 'GET',
      url: `/api/cases-etl/runs/${runId}?original=1`,
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).not.toContain(SURNAME);
    const admin = await server.inject({
      method: 'GET',
      url: `/api/cases-etl/runs/${runId}?original=1`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(admin.statusCode).toBe(200);
    expect(admin.headers['cache-control']).toBe('no-store');
    expect(admin.body.length).toBeLessThan(MB);
    const adminRejects = admin.json().rejects as Array<{ line: number; originalLine: string; originalBytes: number }>;
    expect(adminRejects.map((r) => [r.line, r.originalBytes])).toEqual([
      [LONG_LINE, LONG_BYTES],
      ...MALFORMED.map((l, i) => [LONG_LINE + 1 + i, Buffer.byteLength(l)]),
    ]);
    expect(adminRejects[1]?.originalLine).toBe(MALFORMED[0]);
  }, 240_000);

  it('rejects a value holding U+0000 with its own code, and stores the row on neither database', async () => {
    const src = join(target.dir, 'nul');
    await copySample(src);
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => (r[col('STKEY')] === 'WAL0001' ? Object.assign([...r], { [col('SURNAME')]: 'WAL\0KER' }) : r)),
    );
    const result = await runEtl({ config: target.config({ CASES_DIRECTORY: src }), notifier: null });
    const runId = result.runId as number;
    const probe = await target.probe();
    try {
      expect(await probe.all('SELECT line, row_key, field, code FROM etl_rejects WHERE run_id = ?', [runId])).toEqual([
        { line: 2, row_key: 'WAL0001', field: 'SURNAME', code: 'ETL_ROW_NUL' },
      ]);
      expect(await probe.all(`SELECT stkey FROM cases_st WHERE stkey = 'WAL0001'`)).toEqual([]);
      expect(Number((await probe.all('SELECT count(*) AS n FROM cases_st'))[0]?.n)).toBe(199);
    } finally {
      await probe.close();
    }
  });

  it('migrates an older ledger: raw becomes a capped original_line with its length, and keys read from moved fields go', async () => {
    const longLine = `ABC0001;${SURNAME};${'n'.repeat(10_000)}`;
    const insert = `INSERT INTO etl_rejects (run_id, file_name, line, row_key, field, code, message, raw) VALUES
      (1, 'ST_8865.csv', 2, '${longLine}', NULL, 'ETL_PARSE_FIELD_COUNT', 'the record has 1 fields, the header has 6', '${longLine}'),
      (1, 'ST_8865.csv', 3, 'ABC0002', 'BIRTHDATE', 'ETL_TYPE_DATE', 'BIRTHDATE is not a date', 'ABC0002,LEE,x')`;
    const run = `INSERT INTO etl_runs (school_id, status, trigger, started_at) VALUES ('8865', 'warning', 'cli', '2026-01-01T00:00:00Z')`;
    let migrated: string[];
    if (dialect === 'sqlite') {
      // A ledger as release 3 left it.
      const path = join(target.dir, 'old.db');
      const db = new BetterSqlite3(path);
      db.exec(SQLITE_LEDGER.createMigrations);
      for (const m of SQLITE_MIGRATIONS.filter((m) => m.version < 4)) {
        db.exec(m.sql);
        db.prepare(SQLITE_LEDGER.recordMigration).run(m.version, m.name, '2026-01-01T00:00:00Z');
      }
      db.exec(run);
      db.exec(insert);
      db.close();
      const store = createSqliteStore(path, { busyTimeoutMs: 1000 });
      migrated = await store.migrate();
      const rejects = await store.listRejects(1, 10, { originals: true });
      await store.close();
      expectMigrated(migrated, rejects, [
        '004_original_line',
        '005_repeated_loads',
        '006_history',
        '007_finished_as',
        '008_history_packed',
        '009_history_diff',
      ]);
    } else {
      const env = target.env as { DATABASE_URL: string; DATABASE_SCHEMA: string };
      const pgTarget = { url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA };
      const client = await connectProbe(pgTarget);
      try {
        await client.query(PG_LEDGER.createMigrations);
        for (const m of PG_MIGRATIONS.filter((m) => m.version < 8)) {
          await client.query(m.sql);
          await client.query(PG_LEDGER.recordMigration, [m.version, m.name]);
        }
        await client.query(run);
        await client.query(insert);
      } finally {
        await client.end();
      }
      const store = createPostgresStore(pgTarget.url, pgTarget.schema);
      try {
        migrated = await store.migrate();
        expectMigrated(migrated, await store.listRejects(1, 10, { originals: true }), [
          '008_original_line',
          '009_repeated_loads',
          '010_history',
          '011_finished_as',
          '012_history_packed',
        ]);
      } finally {
        await store.close();
      }
    }

    function expectMigrated(
      names: string[],
      rejects: Array<{ line: number; key: string | null; originalLine?: string | null; originalBytes?: number | null }>,
      applied: string[],
    ): void {
      expect(names).toEqual(applied);
      expect(rejects.map((r) => [r.line, r.key, r.originalLine?.length, r.originalBytes])).toEqual([
        [2, null, 4096, longLine.length],
        [3, 'ABC0002', 13, 13],
      ]);
    }
  });
});
