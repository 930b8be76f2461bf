import type { Database, Statement } from 'better-sqlite3';

import { BOOKKEEPING, SCHOOL_COLUMN } from '../../schema/index.js';
import { MergePlan, type StagedRow } from '../../plan/index.js';
import { zeroCounts, type MergeCounts, type MergeInput } from '../types.js';
import { keySql, readDigest } from './digest.js';
import { LEDGER } from './ledger.js';
import { q } from './sql.js';

/**
 * The SQLite writer: applies the merge plan (plan/plan.ts) with prepared statements inside the
 * run's transaction. The plan decides, from the digest of the school's rows, which rows are new,
 * changed, inactive or unchanged, and which a full file deactivates; stored rows are reached by
 * rowid, and unchanged rows are not written. Every change goes to etl_changes with its before
 * and after images.
 */

type Row = Record<string, unknown>;

interface Statements {
  fetch: Statement;
  insert: Statement;
  update: Statement;
  refreshLine: Statement;
  findInactive: Statement;
  log: Statement;
}

/**
 * The writer's statements, each prepared when first used: an unchanged re-run writes nothing,
 * and preparing five statements for each of a night's files was a twentieth of such a run.
 */
function prepare(db: Database, input: MergeInput): Statements {
  const { mirror, columns } = input;
  const t = q(mirror.name);
  const B = BOOKKEEPING;
  const absent = (): string[] => {
    const inFile = new Set(columns);
    return mirror.columns.filter((c) => !inFile.has(c.name)).map((c) => c.name);
  };
  const sql: Record<keyof Statements, () => string> = {
    fetch: () => `SELECT * FROM ${t} WHERE rowid = ?`,
    insert: () =>
      `INSERT INTO ${t} (${[SCHOOL_COLUMN, ...columns, B.active, B.hash, B.lineHash, B.insertedRun, B.changedRun].map(q).join(', ')}) ` +
      `VALUES (${['?', ...columns.map(() => '?'), '1', '?', '?', '?', '?'].join(', ')})`,
    update: () =>
      `UPDATE ${t} SET ${[...columns.map((c) => `${q(c)} = ?`), ...absent().map((c) => `${q(c)} = NULL`), `${q(B.active)} = 1`, `${q(B.hash)} = ?`, `${q(B.lineHash)} = ?`, `${q(B.changedRun)} = ?`, `${q(B.deactivatedRun)} = NULL`].join(', ')} WHERE rowid = ?`,
    refreshLine: () => `UPDATE ${t} SET ${q(B.lineHash)} = ? WHERE rowid = ?`,
    // The primary key's index finds it: school, then the key's columns.
    findInactive: () =>
      `SELECT rowid FROM ${t} WHERE ${[SCHOOL_COLUMN, ...mirror.key].map((c) => `${q(c)} = ?`).join(' AND ')} AND ${q(B.active)} = 0`,
    log: () => LEDGER.insertChange,
  };
  const prepared: Partial<Statements> = {};
  const lazy = {} as Statements;
  for (const name of Object.keys(sql) as Array<keyof Statements>) {
    Object.defineProperty(lazy, name, { get: () => (prepared[name] ??= db.prepare(sql[name]())) });
  }
  return lazy;
}

/**
 * A row image as JSON with its null columns left out: a column missing from an image was null.
 * ST rows are mostly empty columns, and writing 211 nulls per change made the log four times the
 * size of the data it describes.
 */
export function imageJson(row: Row): string {
  const compact: Row = {};
  for (const k in row) if (row[k] !== null && row[k] !== undefined) compact[k] = row[k];
  return JSON.stringify(compact);
}

/**
 * An insert's after image: the row's address (school and key). The inserted row is the mirror
 * row itself, and the next change to it records it in full as that change's before image.
 */
function insertImage(input: MergeInput, row: StagedRow, keyIdx: readonly number[]): string {
  const image: Row = { [SCHOOL_COLUMN]: input.school };
  input.mirror.key.forEach((k, i) => (image[k] = row.values[keyIdx[i] as number] ?? null));
  return JSON.stringify(image);
}

/** Logs every row of the school's mirror table as inserted by the run: the first load's change log. */
function logAllInsertedSql(input: MergeInput): string {
  const { mirror } = input;
  const image = [SCHOOL_COLUMN, ...mirror.key].map((k) => `'${k.replace(/'/g, "''")}', m.${q(k)}`).join(', ');
  return `INSERT INTO etl_changes (run_id, school_id, table_name, row_key, op, before, after)
    SELECT ?, m.${q(SCHOOL_COLUMN)}, ?, ${keySql(mirror.key, 'm')}, 'insert', NULL, json_object(${image})
    FROM ${q(mirror.name)} AS m WHERE m.${q(SCHOOL_COLUMN)} = ? ORDER BY m.rowid`;
}

/** The row as it stands after an update from the file (absent columns are null, so left out). */
function afterImage(input: MergeInput, row: StagedRow, before: Row): string {
  const image: Row = { [SCHOOL_COLUMN]: input.school };
  const { columns, values } = { columns: input.columns, values: row.values };
  for (let i = 0; i < columns.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) image[columns[i] as string] = v;
  }
  image[BOOKKEEPING.active] = 1;
  image[BOOKKEEPING.hash] = row.hash;
  if (row.line !== null) image[BOOKKEEPING.lineHash] = row.line;
  image[BOOKKEEPING.insertedRun] = before[BOOKKEEPING.insertedRun];
  image[BOOKKEEPING.changedRun] = input.runId;
  return JSON.stringify(image);
}

export async function mergeSqlite(
  db: Database,
  input: MergeInput,
  batches: AsyncIterable<readonly StagedRow[]>,
): Promise<MergeCounts> {
  const s = prepare(db, input);
  const counts = zeroCounts();
  const { runId, school, mirror } = input;
  const keyIdx = mirror.key.map((k) => input.columns.indexOf(k));
  const findInactive = (row: StagedRow): number | null =>
    (s.findInactive.pluck().get(school, ...keyIdx.map((i) => row.values[i])) as number | undefined) ?? null;
  const plan = new MergePlan(input.digest ?? readDigest(db, mirror, school), input.mode, findInactive);

  if (plan.firstLoad) {
    // The school's first night for this table: every row is new, nothing can be deactivated.
    for await (const batch of batches) {
      for (const row of batch) s.insert.run(school, ...row.values, row.hash, row.line, runId, runId);
      counts.inserted += batch.length;
    }
    // Logged from the mirror in one statement: the school had no rows before, so its rows are
    // exactly the inserted ones, and SQLite builds the key images faster than a call per row.
    db.prepare(logAllInsertedSql(input)).run(runId, mirror.table, school);
    return counts;
  }

  for await (const rows of batches) {
    const batch = plan.batch(rows);
    counts.unchanged += batch.unchanged;
    for (const row of batch.inserts) {
      s.insert.run(school, ...row.values, row.hash, row.line, runId, runId);
      s.log.run(runId, school, mirror.table, row.key, 'insert', null, insertImage(input, row, keyIdx));
    }
    counts.inserted += batch.inserts.length;
    for (const { row, op, address } of batch.changes) {
      const before = s.fetch.get(address) as Row;
      s.update.run(...row.values, row.hash, row.line, runId, address);
      s.log.run(runId, school, mirror.table, row.key, op, imageJson(before), afterImage(input, row, before));
      if (op === 'update') counts.updated++;
      else counts.reactivated++;
    }
    for (const { address, line } of batch.lineRefreshes) s.refreshLine.run(line, address);
  }

  const end = plan.end(input.rejected);
  counts.deferred = end.deferred;
  if (end.deactivate > 0) counts.deactivated = deactivate(db, input, end.addresses(), end.deactivate);
  return counts;
}

/** Rows whose change is logged per statement: progress is told between them. */
const DEACTIVATE_PAGE = 10_000;

const GONE = 'temp.cases_etl_gone';

/**
 * SQL for a deactivation's image: the row's address (school and key) and the three bookkeeping
 * columns deactivating changes, nulls written out (rollback restores exactly these; the values
 * never change). `flags` gives each of the three as SQL. Building every column of each row as
 * JSON, twice, made emptying a table cost nearly twice loading it.
 */
function flagsImageSql(mirror: MergeInput['mirror'], alias: string, flags: readonly [string, string, string]): string {
  const B = BOOKKEEPING;
  const address = [SCHOOL_COLUMN, ...mirror.key].map((k) => `'${k.replace(/'/g, "''")}', ${alias}.${q(k)}`);
  const bookkeeping = [B.active, B.changedRun, B.deactivatedRun].map((k, i) => `'${k}', ${flags[i]}`);
  return `json_object(${[...address, ...bookkeeping].join(', ')})`;
}

/**
 * Deactivates the rows at `addresses` (the plan's: active rows the full file did not show),
 * set-based: their rowids go to a temporary table, their changes are logged by SQLite itself a
 * page of rowids at a time (so progress can be told), and one UPDATE marks them all. Building
 * each image in JavaScript made deactivating 250,000 rows take 94 s against 14 s to insert them.
 */
function deactivate(db: Database, input: MergeInput, addresses: Iterable<number>, total: number): number {
  const { mirror, runId } = input;
  const t = q(mirror.name);
  const B = BOOKKEEPING;
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS cases_etl_gone (rid INTEGER PRIMARY KEY)`);
  db.exec(`DELETE FROM ${GONE}`);
  // The rowids go in a few thousand per statement, as one JSON array each: a statement per row
  // cost 250,000 calls for a table that empties.
  const gone = db.prepare(`INSERT INTO ${GONE} (rid) SELECT value FROM json_each(?)`);
  let page: number[] = [];
  for (const rid of addresses) {
    page.push(rid);
    if (page.length === 8192) {
      gone.run(JSON.stringify(page));
      page = [];
    }
  }
  if (page.length > 0) gone.run(JSON.stringify(page));
  input.onDeactivate?.(0, total);
  const pageEnd = db.prepare(
    `SELECT max(rid) AS hi FROM (SELECT rid FROM ${GONE} WHERE rid > ? ORDER BY rid LIMIT ${DEACTIVATE_PAGE})`,
  );
  const before = flagsImageSql(mirror, 'm', [`m.${q(B.active)}`, `m.${q(B.changedRun)}`, `m.${q(B.deactivatedRun)}`]);
  const after = flagsImageSql(mirror, 'm', ['0', '@run', '@run']);
  // CROSS JOIN keeps the page's rowids as the outer loop; ORDER BY keeps the log in rowid order.
  const log = db.prepare(
    `INSERT INTO etl_changes (run_id, school_id, table_name, row_key, op, before, after)
     SELECT @run, m.${q(SCHOOL_COLUMN)}, @table, ${keySql(mirror.key, 'm')}, 'deactivate', ${before}, ${after}
       FROM ${GONE} g CROSS JOIN ${t} m ON m.rowid = g.rid WHERE g.rid > @from AND g.rid <= @hi ORDER BY g.rid`,
  );
  let done = 0;
  for (let from = -1; done < total;) {
    const hi = (pageEnd.get(from) as { hi: number | null }).hi;
    if (hi === null) break;
    done += log.run({ run: runId, table: mirror.table, from, hi }).changes;
    input.onDeactivate?.(done, total);
    from = hi;
  }
  db.prepare(
    `UPDATE ${t} SET ${q(B.active)} = 0, ${q(B.changedRun)} = ?, ${q(B.deactivatedRun)} = ? WHERE rowid IN (SELECT rid FROM ${GONE})`,
  ).run(runId, runId);
  db.exec(`DELETE FROM ${GONE}`);
  return total;
}
