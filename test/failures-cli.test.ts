import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, type CliResult } from './helpers/cli.js';
import { closedPort, startCli } from './helpers/children.js';
import { startFakePostgres, type FakePostgres } from './helpers/fake-postgres.js';
import { eventually } from './helpers/jobs.js';
import { SAMPLE } from './helpers/nights.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

/**
 * Every CLI command against each fault an unattended service meets: a PostgreSQL where nothing
 * listens, a database that does not exist, a role or password refused, a PostgreSQL still starting
 * up, an SQLite database whose folder cannot be made or whose file is not a database, a schedule
 * that is wrong (Redis where nothing listens is test/redis-down.test.ts). Each answers with its coded error,
 * where and why in words, and the right exit code; no line of any output is part of a stack trace,
 * and the password in the URL is never printed. Real child processes, real closed ports, the
 * machine's real PostgreSQL, and a loopback server speaking PostgreSQL's protocol for the states
 * the real one cannot be put in here.
 */

const PASSWORD = 'hunter2-not-printed';

/** `work` over `items`, at most `width` at a time (each is a child process), results in order. */
async function inTurns<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

function expectNoStack(what: string, r: CliResult): void {
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    expect(line.trimStart().startsWith('at '), `${what}: ${line}`).toBe(false);
    expect(line, what).not.toContain('node_modules/');
  }
  expect(`${r.stdout}${r.stderr}`, what).not.toContain(PASSWORD);
}

/** The commands that open the database, with what each needs besides. */
const DATABASE_COMMANDS: ReadonlyArray<readonly string[]> = [
  ['run'],
  ['runs'],
  ['runs', '--id', '1'],
  ['rollback', '1', '--reason', 'test'],
  ['migrate'],
  ['trigger'],
  ['serve'],
];

/** Commands that never open the database: a database fault does not touch them. */
const OTHER_COMMANDS: ReadonlyArray<readonly string[]> = [['validate'], ['layouts', 'list'], ['schedule', 'show']];

describe('every command under each fault', () => {
  let dir: string;
  let starting: FakePostgres;
  let refusedPassword: FakePostgres;
  let closed: number;
  /** Accepts and hangs up at once, as a proxy or firewall in the way does. */
  let hangUp: Server;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faults-cli-'));
    await writeFile(join(dir, 'in-the-way'), 'a file, not a folder\n');
    await writeFile(join(dir, 'not-a-database.db'), 'these bytes are no SQLite header\n'.repeat(200));
    starting = await startFakePostgres('57P03', 'the database system is starting up');
    refusedPassword = await startFakePostgres('28P01', 'password authentication failed for user "etl"');
    closed = await closedPort();
    hangUp = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await starting.close();
    await refusedPassword.close();
    await new Promise((resolve) => hangUp.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const base = (): Record<string, string> => ({
    CASES_DIRECTORY: SAMPLE,
    PORT: '0',
    HOST: '127.0.0.1',
    ETL_RETRY_ATTEMPTS: '1',
    ETL_DB_CONNECT_TIMEOUT_MS: '3000',
  });

  const faults = (): Array<{ name: string; url: string; where: string; why: RegExp; noLedger?: boolean }> => [
    {
      name: 'nothing listening',
      url: `postgres://etl:${PASSWORD}@127.0.0.1:${closed}/test`,
      where: `postgres://127.0.0.1:${closed}/test (schema public)`,
      why: new RegExp(`the connection was refused: nothing is listening at 127\\.0\\.0\\.1:${closed}$`),
    },
    {
      name: 'no such database',
      url: `postgres://postgres:${PASSWORD}@127.0.0.1:5432/cases_etl_no_such_database`,
      where: 'postgres://127.0.0.1:5432/cases_etl_no_such_database (schema public)',
      why: /database "cases_etl_no_such_database" does not exist$/,
    },
    {
      name: 'role refused',
      url: `postgres://cases_etl_no_such_role:${PASSWORD}@127.0.0.1:5432/test`,
      where: 'postgres://127.0.0.1:5432/test (schema public)',
      why: /role "cases_etl_no_such_role" does not exist$/,
    },
    {
      name: 'password refused',
      url: `postgres://etl:${PASSWORD}@127.0.0.1:${refusedPassword.port}/test`,
      where: `postgres://127.0.0.1:${refusedPassword.port}/test (schema public)`,
      why: /password authentication failed for user "etl"$/,
    },
    {
      name: 'starting up',
      url: `postgres://etl:${PASSWORD}@127.0.0.1:${starting.port}/test`,
      where: `postgres://127.0.0.1:${starting.port}/test (schema public)`,
      why: /the database system is starting up: PostgreSQL is starting up or shutting down; try again in a moment$/,
    },
    {
      name: 'hung up at once',
      url: `postgres://etl:${PASSWORD}@127.0.0.1:${(hangUp.address() as { port: number }).port}/test`,
      where: `postgres://127.0.0.1:${(hangUp.address() as { port: number }).port}/test (schema public)`,
      why: /the server closed the connection before it was ready \(PostgreSQL restarting, or a proxy or firewall between\)$/,
    },
    {
      name: 'SQLite: a file where its folder should be',
      noLedger: true,
      url: `sqlite:${join(dir, 'in-the-way', 'cases-etl.db')}`,
      where: `sqlite:${join(dir, 'in-the-way', 'cases-etl.db')}`,
      why: new RegExp(
        `a file is in the way of its folder \\(${join(dir, 'in-the-way').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`,
      ),
    },
    {
      // Node's own recursive mkdir spins for ever here (procfs answers ENOENT and EEXIST in turn).
      name: 'SQLite: a folder the file system refuses',
      noLedger: true,
      url: 'sqlite:/proc/cases-etl-nowhere/cases-etl.db',
      where: 'sqlite:/proc/cases-etl-nowhere/cases-etl.db',
      why: /its folder cannot be made there \(\/proc\/cases-etl-nowhere\)$/,
    },
    {
      name: 'SQLite: not a database',
      url: `sqlite:${join(dir, 'not-a-database.db')}`,
      where: `sqlite:${join(dir, 'not-a-database.db')}`,
      why: /the file is not an SQLite database$/,
    },
  ];

  it('a database fault: ETL_DB_UNAVAILABLE saying where and why, exit 1, on every command that opens it', async () => {
    const cases = faults().flatMap((fault) => DATABASE_COMMANDS.map((args) => ({ fault, args })));
    const results = await inTurns(cases, 6, async ({ fault, args }) => ({
      fault,
      args,
      r: await runCli(args, { ...base(), DATABASE_URL: fault.url }, dir),
    }));
    for (const { fault, args, r } of results) {
      const what = `${fault.name}: ${args.join(' ')}`;
      expectNoStack(what, r);
      if (fault.noLedger && args[0] === 'runs') {
        // Only reading, it makes no folder: there is no ledger there, which is what it says.
        expect([r.code, r.stdout], what).toEqual([0, expect.stringContaining(`No ledger in ${fault.where}`)]);
        continue;
      }
      expect(r.code, `${what}\n${r.stdout}${r.stderr}`).toBe(1);
      const line = r.stderr.split('\n').find((l) => l.startsWith('error ETL_DB_UNAVAILABLE: '));
      expect(line, `${what}\n${r.stderr}`).toBeDefined();
      expect(line, what).toContain(
        fault.where.startsWith('sqlite:') ? `cannot open ${fault.where}: ` : `cannot connect to ${fault.where}: `,
      );
      expect(line, what).toMatch(fault.why);
      expect(r.stderr, what).toContain('  fix: Check DATABASE_URL');
    }
  }, 240_000);

  it('a database fault leaves the commands that never open it alone', async () => {
    const [fault] = faults();
    for (const args of OTHER_COMMANDS) {
      const r = await runCli(args, { ...base(), DATABASE_URL: fault?.url ?? '' }, dir);
      expectNoStack(args.join(' '), r);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it("serve's /readyz says ETL_DB_UNAVAILABLE while PostgreSQL is gone, and ready again when it returns", async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const schema = `readyz_${Date.now().toString(36)}`;
    const serve = startCli(['serve'], {
      ...base(),
      DATABASE_URL: proxy.url(`postgres://postgres:${PASSWORD}@127.0.0.1:5432/test`),
      DATABASE_SCHEMA: schema,
    });
    try {
      const address = await serve.address();
      const ready = async (): Promise<{ status: number; database: string }> => {
        const res = await fetch(`http://${address}/readyz`);
        return {
          status: res.status,
          database: ((await res.json()) as { checks: { database: string } }).checks.database,
        };
      };
      expect(await ready()).toEqual({ status: 200, database: 'ok' });
      proxy.arm('drop', 0);
      const gone = await eventually(
        async () => {
          const r = await ready();
          return r.status === 503 ? r : undefined;
        },
        15_000,
        '/readyz to turn 503',
      );
      expect(gone.database).toMatch(/^ETL_DB_UNAVAILABLE: /);
      expect(gone.database).not.toContain(PASSWORD);
      expect((await fetch(`http://${address}/livez`)).status).toBe(200);
      proxy.heal();
      await eventually(async () => ((await ready()).status === 200 ? true : undefined), 15_000, '/readyz to turn 200');
      expect(serve.log()).not.toContain(PASSWORD);
      expect(serve.log()).not.toMatch(/^\s+at |node_modules\//m);
    } finally {
      await serve.stop();
      await proxy.close();
      const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });

  it('a wrong schedule: a configuration error naming the field, exit 2, before anything is opened', async () => {
    const db = join(dir, 'schedule', 'never.db');
    for (const [pattern, says] of [
      ['0 25 * * *', 'has a wrong hour field "25"'],
      ['0 0 2 * * *', 'has 6 fields: the first would be seconds'],
      ['every night', 'has 2 fields: give 5'],
    ] as const) {
      for (const args of [['serve'], ['worker'], ['schedule', 'show'], ['trigger']]) {
        const r = await runCli(
          args,
          { ...base(), DATABASE_URL: `sqlite:${db}`, ETL_SCHEDULE: pattern, REDIS_URL: 'redis://127.0.0.1:6379' },
          dir,
        );
        const what = `${pattern}: ${args.join(' ')}`;
        expectNoStack(what, r);
        expect(r.code, `${what}: ${r.stderr}`).toBe(2);
        expect(r.stderr, what).toContain('error ETL_CONFIG_INVALID');
        expect(r.stderr, what).toContain(`ETL_SCHEDULE=${JSON.stringify(pattern)} ${says}`);
      }
    }
    // Refused at configuration time: no database was made.
    await expect(stat(db)).rejects.toThrow(/ENOENT/);
  });
});
