import type { ColumnType } from '../../layouts/index.js';
import { BOOKKEEPING, SCHOOL_COLUMN, type MirrorColumn, type MirrorTable } from '../../schema/index.js';
import { ROW_COPY_OPTIONS } from './copy/text.js';

/**
 * The PostgreSQL adapter's statements on the schema, the mirror tables and their views, and the
 * merge, built from their description; the ledger's fixed statements are in ledger-sql.ts.
 * Identifiers are always quoted: CASES column names include SQL words and views use mixed-case
 * fields. Values travel as parameters (save one, in digestSql); only identifiers are spliced in.
 */

export const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A quoted string literal. */
export const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** Real types, so the intranet can sort dates and sum numbers without casts. */
const TYPES: Record<ColumnType, string> = {
  string: 'text',
  flag: 'text',
  smallint: 'smallint',
  int: 'integer',
  // Decimals arrive as their exact digits (money); numeric keeps them exact.
  decimal: 'numeric',
  float: 'double precision',
  date: 'date',
  // CASES times are school-local wall-clock times with no zone.
  datetime: 'timestamp without time zone',
  bytes: 'bytea',
};

export function columnDdl(c: MirrorColumn): string {
  return `${q(c.name)} ${TYPES[c.type]}`;
}

/**
 * Run once on every pooled connection, before its first query. ISO DateStyle makes `date::text` and
 * `timestamp::text` print as the validator writes them (`2024-02-01`, `2024-02-01 08:30:00`),
 * which the row key of a deactivated row depends on.
 */
export function sessionSetupSql(schema: string): string {
  return `SET search_path TO ${q(schema)}; SET datestyle TO ISO, DMY`;
}

/**
 * Advisory lock keys, all derived from 'cases-etl …' so they do not meet another application's.
 * A hashtext collision between two schools only makes them take turns; it never lets one school
 * run twice.
 */
export const LOCKS = {
  /**
   * Transaction lock that serialises migrations across every process on the database. Qualified
   * and run first in its transaction: resolving an unqualified name would look the schema up (and
   * cache its absence) before another process's CREATE SCHEMA commits.
   */
  migrate: 'SELECT pg_catalog.pg_advisory_xact_lock(7365033101)',
  /** Session lock for one school's runs: (schema, school) so separate schemas do not wait on each other. */
  tryRun: `SELECT pg_try_advisory_lock(hashtext('cases-etl run ' || $1::text), hashtext($2::text)) AS locked`,
  unlockRun: `SELECT pg_advisory_unlock(hashtext('cases-etl run ' || $1::text), hashtext($2::text)) AS unlocked`,
  /**
   * Transaction lock around the views' DDL in schema $1. Any run that changes a mirror table takes
   * it first (before mirrorDdl), as the views step does: a view joins several tables, so without
   * one order a run holding a table it altered could wait for the views while the run making
   * them waits for that table.
   */
  viewsDdl: `SELECT pg_advisory_xact_lock(hashtext('cases-etl views'), hashtext($1::text))`,
  /** Transaction lock around one mirror table's DDL, so two schools' first runs do not race to create it. */
  mirrorDdl: `SELECT pg_advisory_xact_lock(hashtext('cases-etl ddl ' || $1::text), hashtext($2::text))`,
} as const;

/** $1 schema. Asked first because CREATE SCHEMA IF NOT EXISTS still demands CREATE on the database. */
export const SCHEMA_EXISTS = 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS present';

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${q(schema)}`;
}

// ---------------------------------------------------------------------------------------------
// Mirror tables and views

/**
 * The mirror's CREATE TABLE; without its primary key when `key` is false, for a table that is
 * loaded in the same transaction and keyed afterwards (addPrimaryKeySql).
 */
export function createMirrorSql(m: MirrorTable, key = true): string {
  const columns = [
    `  ${q(SCHOOL_COLUMN)} text NOT NULL`,
    ...m.columns.map((c) => `  ${columnDdl(c)}`),
    `  ${q(BOOKKEEPING.active)} boolean NOT NULL DEFAULT true`,
    `  ${q(BOOKKEEPING.hash)} text NOT NULL`,
    `  ${q(BOOKKEEPING.insertedRun)} bigint NOT NULL`,
    `  ${q(BOOKKEEPING.changedRun)} bigint NOT NULL`,
    `  ${q(BOOKKEEPING.deactivatedRun)} bigint`,
    `  ${q(BOOKKEEPING.lineHash)} text`,
  ];
  if (key) columns.push(`  ${primaryKey(m)}`);
  return `CREATE TABLE IF NOT EXISTS ${q(m.name)} (\n${columns.join(',\n')}\n)`;
}

const primaryKey = (m: MirrorTable): string => `PRIMARY KEY (${[SCHOOL_COLUMN, ...m.key].map(q).join(', ')})`;

/** The name of the mirror's index of inactive rows (inactiveIndexSql). */
export const inactiveIndexName = (m: MirrorTable): string => `${m.name}__inactive`;

/**
 * The index of each school's inactive rows, and of nothing else: whether a school has any
 * (hasInactiveSql, every load of a table the school already has) is one step into it. Without
 * it, a table with none was read to its end to find that out: 1.9 s of a 9.5 s night for a
 * million students. Active rows are not in it, so a first load pays nothing for it; a row
 * enters when it is deactivated.
 */
export function inactiveIndexSql(m: MirrorTable): string {
  return `CREATE INDEX IF NOT EXISTS ${q(inactiveIndexName(m))} ON ${q(m.name)} (${q(SCHOOL_COLUMN)}) WHERE NOT ${q(BOOKKEEPING.active)}`;
}

/**
 * The mirror's primary key, added after its first load: PostgreSQL builds the index from the
 * sorted rows in a fraction of what inserting a million keys one by one costs, and checks them
 * all the same. The constraint gets the name an inline key would (`<table>_pkey`).
 */
export function addPrimaryKeySql(m: MirrorTable): string {
  return `ALTER TABLE ${q(m.name)} ADD ${primaryKey(m)}`;
}

export function addColumnSql(table: string, c: MirrorColumn): string {
  return `ALTER TABLE ${q(table)} ADD COLUMN IF NOT EXISTS ${columnDdl(c)}`;
}

/**
 * $1 schema, $2 table: in one round trip, the table's columns (kind 'column'; none if it does not
 * exist), its comment (kind 'comment'; null when it has none: a table made before cases-etl
 * described its tables) and its indexes' names (kind 'index'). From the catalog: the information_schema view took some 5 ms a table, a
 * tenth of a small school's whole night. This one finds the table by a join read as of the
 * statement, so it sees DDL another session committed while this one waited for it.
 */
export const MIRROR_CATALOG = `SELECT 'column' AS kind, a.attname AS name, NULL AS note FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'comment', c.relname, pg_catalog.obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
  UNION ALL
  SELECT 'index', x.relname, NULL FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2`;

/**
 * The same answer for the check every table of every run makes first, with the table found by
 * to_regclass instead of the join: planning the join cost more than running it, about 1 ms a
 * table. to_regclass goes through the backend's catalog cache, which need not yet show DDL
 * committed while this session waited on an advisory lock; so when this finds something to do,
 * the plan is made again with MIRROR_CATALOG under the DDL lock.
 */
export const MIRROR_CATALOG_CACHED = `SELECT 'column' AS kind, a.attname AS name, NULL AS note FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  WHERE c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))
    AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'comment', c.relname, pg_catalog.obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c
  WHERE c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2)) AND c.relkind IN ('r', 'p')
  UNION ALL
  SELECT 'index', x.relname, NULL FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid
  WHERE i.indrelid = pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))`;

/**
 * $1 schema, $2 mirror tables, $3 view names: the columns of each mirror table that exists (kind
 * 'column') and the comment of each view that exists (kind 'view'), which carries the stamp of
 * its definition. Names are cast to text: a UNION of `name` and text is `name`, which cuts the
 * comment to 63 bytes. Read as of the statement, so it sees views another session committed while
 * this one waited for the views lock.
 */
export const VIEWS_CATALOG = `SELECT 'column' AS kind, c.relname::text AS relation, a.attname::text AS name FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'view', c.relname::text, pg_catalog.obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($3::text[]) AND c.relkind = 'v'`;

/** $1 schema, $2 table: the table's primary key columns in key order; none if it has no key (yet). */
export const PRIMARY_KEY_COLUMNS = `SELECT a.attname AS name FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
  WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary ORDER BY k.ord`;

/** $1 schema, $2 table: the name of the table's primary key constraint (none if it has no key). */
export const PRIMARY_KEY_CONSTRAINT = `SELECT con.conname AS name FROM pg_catalog.pg_constraint con
  WHERE con.conrelid = pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2)) AND con.contype = 'p'`;

/**
 * Counts what stops the table taking `key` as its primary key: all rows, rows with an empty key
 * column, and rows (and key values) that share a key within one school. Counts only: the values
 * are personal data.
 */
export function rekeyCountsSql(table: string, key: readonly string[]): string {
  const anyNull = key.map((c) => `${q(c)} IS NULL`).join(' OR ');
  const noNull = key.map((c) => `${q(c)} IS NOT NULL`).join(' AND ');
  return `SELECT (SELECT count(*) FROM ${q(table)})::integer AS rows,
    (SELECT count(*) FROM ${q(table)} WHERE ${anyNull})::integer AS null_rows,
    coalesce(sum(d.n), 0)::integer AS duplicate_rows, count(d.n)::integer AS duplicate_keys
    FROM (SELECT count(*) AS n FROM ${q(table)} WHERE ${noNull} GROUP BY ${[SCHOOL_COLUMN, ...key].map(q).join(', ')}
          HAVING count(*) > 1) AS d`;
}

/** Waits for every other use of the table to end, and keeps it out until the rekey commits. */
export function lockTableSql(table: string): string {
  return `LOCK TABLE ${q(table)} IN ACCESS EXCLUSIVE MODE`;
}

/**
 * Swaps the table's primary key for `school_id` + `key` in one statement. Old key columns left
 * out of the new key lose the NOT NULL the old key gave them, as a table created under the new
 * key would not have it. The new constraint gets the default name (`<table>_pkey`) again.
 */
export function rekeySql(m: MirrorTable, constraint: string | null, oldKey: readonly string[]): string {
  const parts = constraint === null ? [] : [`DROP CONSTRAINT ${q(constraint)}`];
  for (const c of oldKey) if (!m.key.includes(c)) parts.push(`ALTER COLUMN ${q(c)} DROP NOT NULL`);
  parts.push(`ADD ${primaryKey(m)}`);
  return `ALTER TABLE ${q(m.name)} ${parts.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Merge: COPY into a staging table the rows that need work, each with what to do and the address
// of its mirror row (from the digest), then one statement per kind of change. Parameters
// throughout: $1 school (text), $2 run id (bigint), $3 base CASES table for etl_changes (text).

/** The staging table's bookkeeping columns: the row and line hashes the pipeline computed, and its after image. */
export const STAGE_HASH = '_hash';
export const STAGE_LINE = '_line_hash';
/** What a staged row needs ('insert', 'update', 'reactivate') and its mirror row's address (ctid; null for an insert). */
export const STAGE_OP = '_op';
export const STAGE_RID = '_rid';
/**
 * A staged row's after image as JSON text, built in Node from the file's values, missing only
 * `_inserted_run` and the closing brace: the update appends the mirror row's own. Asking
 * PostgreSQL for row_to_json of a 211-column row cost as much as the rest of the update.
 */
export const STAGE_AFTER = '_after';

const B = BOOKKEEPING;

/**
 * An insert's after image: the row's address (school and key), not all of it. The inserted row is
 * the mirror row itself, and the next change to it records it in full as that change's before
 * image; writing 211 columns of JSON per new row made a first load ten times slower than COPY.
 */
export function insertImageSql(key: readonly string[], alias: string): string {
  return `json_build_object(${[SCHOOL_COLUMN, ...key].map((k) => `${lit(k)}, ${alias}.${q(k)}`).join(', ')})`;
}

/**
 * COPY straight into the mirror for a school's first load: the school's bookkeeping comes from
 * Node. `freeze` when the table was created in the current subtransaction (nobody else can see
 * it before the commit): the rows are written frozen and their pages all-visible, so the next
 * night's reads do not first rewrite every page to set hint bits.
 */
export function copyMirrorSql(mirror: MirrorTable, columns: readonly string[], freeze = false): string {
  // The order rowLine writes: school, the file's values, the hashes, then the rest of the bookkeeping.
  return `COPY ${q(mirror.name)} (${[SCHOOL_COLUMN, ...columns, B.hash, B.lineHash, B.active, B.insertedRun, B.changedRun].map(q).join(', ')}) FROM STDIN WITH (${ROW_COPY_OPTIONS}${freeze ? ', FREEZE' : ''})`;
}

/** The key as the validator builds it (typed values as text, joined by U+001F), in SQL. */
export function rowKeySql(key: readonly string[], alias: string): string {
  return key.map((k) => `${alias}.${q(k)}::text`).join(' || chr(31) || ');
}

const temp = (name: string): string => `pg_temp.${q(name)}`;

/**
 * The staging table: the file's columns with the mirror's own types (copied from the mirror, so a
 * column created under an older layout still compares and assigns without casts), plus the
 * hashes, after image, what to do and where. No keys or indexes: COPY writes it once and each
 * statement that applies it reads it once.
 */
export function createStageSql(stage: string, mirror: MirrorTable, columns: readonly string[]): string {
  return (
    `CREATE TEMP TABLE ${q(stage)} ON COMMIT DROP AS SELECT ${columns.map((c) => `m.${q(c)}`).join(', ')}, NULL::text AS ${q(STAGE_HASH)}, NULL::text AS ${q(STAGE_LINE)}, ` +
    `NULL::text AS ${q(STAGE_AFTER)}, NULL::text AS ${q(STAGE_OP)}, NULL::tid AS ${q(STAGE_RID)} FROM ${q(mirror.name)} m WITH NO DATA`
  );
}

export function copyStageSql(stage: string, columns: readonly string[]): string {
  return `COPY ${temp(stage)} (${[...columns, STAGE_HASH, STAGE_LINE, STAGE_AFTER, STAGE_OP, STAGE_RID].map(q).join(', ')}) FROM STDIN WITH (${ROW_COPY_OPTIONS})`;
}

/** Empties a staging table for the next segment of a file (cheaper than a new table). */
export function truncateSql(table: string): string {
  return `TRUNCATE ${temp(table)}`;
}

export function dropTempSql(name: string): string {
  return `DROP TABLE IF EXISTS ${temp(name)}`;
}

/**
 * Lets a large join or the before images an update returns stay in memory (the default 4MB
 * spills to disk), for this transaction only, and never lowers a larger setting.
 */
export const RAISE_WORK_MEM = `SELECT set_config('work_mem', '128MB', true) WHERE pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('128MB')`;

const LOG_CHANGE = 'INSERT INTO etl_changes (run_id, school_id, table_name, row_key, op, before, after)';

/** Arguments per concat_ws call: a function takes at most 100. */
const CONCAT_ARGS = 90;

/**
 * A whole mirror row as a change image: a JSON object of its non-null columns, in table order,
 * the same text json_strip_nulls(row_to_json(row)) gives (a test holds them equal). `columns` are
 * the table's columns in order (imageColumnsSql). Built from the non-null values alone, it costs
 * less than half of that: row_to_json looks up how to write each of a 211-column row's columns,
 * nulls too, and json_strip_nulls reads the result through again. json, not jsonb: images are
 * only ever read whole, by rollback.
 */
export function imageSql(alias: string, columns: readonly string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < columns.length; i += CONCAT_ARGS) {
    const pairs = columns
      .slice(i, i + CONCAT_ARGS)
      .map(
        (c) =>
          `CASE WHEN ${alias}.${q(c)} IS NOT NULL THEN ${lit(`${JSON.stringify(c)}:`)} || to_json(${alias}.${q(c)})::text END`,
      );
    // concat_ws skips nulls; a group whose columns are all null gives '' and is skipped too.
    parts.push(`NULLIF(concat_ws(',', ${pairs.join(', ')}), '')`);
  }
  return `('{' || concat_ws(',', ${parts.join(', ')}) || '}')::json`;
}

/** $1 the mirror table (as a name to cast to regclass): its columns, in table order, for imageSql. */
export const IMAGE_COLUMNS = `SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`;

function insertColumns(columns: readonly string[]): { target: string; source: string } {
  return {
    target: [SCHOOL_COLUMN, ...columns, B.active, B.hash, B.lineHash, B.insertedRun, B.changedRun].map(q).join(', '),
    source: [
      '$1::text',
      ...columns.map((c) => `s.${q(c)}`),
      'true',
      `s.${q(STAGE_HASH)}`,
      `s.${q(STAGE_LINE)}`,
      '$2::bigint',
      '$2::bigint',
    ].join(', '),
  };
}

/** The first load's insert changes, written by Node (see first-load.ts). */
export function copyChangesSql(): string {
  return 'COPY etl_changes (run_id, school_id, table_name, row_key, op, before, after) FROM STDIN';
}

/**
 * The digest of a re-run (see load/digest.ts): each of the school's rows as its key (built as the
 * validator builds it), row hash, active flag, line hash and address. COPY takes no parameters, so the
 * school is the one value spliced in, as a quoted literal.
 */
export function digestSql(mirror: MirrorTable, school: string): string {
  return `COPY (SELECT ${rowKeySql(mirror.key, 'm')}, m.${q(B.hash)}, m.${q(B.active)}, m.${q(B.lineHash)}, m.ctid FROM ${q(mirror.name)} AS m
    WHERE m.${q(SCHOOL_COLUMN)} = ${lit(school)} AND m.${q(B.active)}) TO STDOUT`;
}

/** Whether `school` has inactive rows in `mirror`, which the digest leaves out ($1: school). */
export function hasInactiveSql(mirror: MirrorTable): string {
  return `SELECT EXISTS (SELECT 1 FROM ${q(mirror.name)} AS m WHERE m.${q(SCHOOL_COLUMN)} = $1::text AND NOT m.${q(B.active)}) AS inactive`;
}

/** A temporary table of mirror row addresses: the active rows a full file never showed. */
export function createAddressesSql(name: string): string {
  return `CREATE TEMP TABLE ${q(name)} (rid tid) ON COMMIT DROP`;
}

export function copyAddressesSql(name: string): string {
  return `COPY ${temp(name)} (rid) FROM STDIN`;
}

/** A temporary table of addresses and line hashes: unchanged rows read from other text than their stored line hash says. */
export function createLinesSql(lines: string): string {
  return `CREATE TEMP TABLE ${q(lines)} (rid tid, line text) ON COMMIT DROP`;
}

export function copyLinesSql(lines: string): string {
  return `COPY ${temp(lines)} (rid, line) FROM STDIN`;
}

/**
 * $1 school. Sets the line hashes in `lines` on their rows. Not a change of the row (its values
 * are as they were), so neither logged nor counted: a line hash only lets a later run skip
 * reading the line, and any line hash a row holds reads as its values.
 */
export function refreshLinesSql(lines: string, mirror: MirrorTable): string {
  return `UPDATE ${q(mirror.name)} AS m SET ${q(B.lineHash)} = l.line FROM ${temp(lines)} AS l
  WHERE m.ctid = l.rid AND m.${q(SCHOOL_COLUMN)} = $1::text`;
}

/**
 * Updates and reactivations: the planned rows take the file's values (mirror columns the file
 * lacks become NULL: a row's content is the file's row), keeping `_inserted_run`. `old` is the
 * same row read through the statement's snapshot, which is how an UPDATE returns the image from
 * before it. Rows are reached by address (TID scans), not by key.
 */
export function applyChangedSql(
  stage: string,
  mirror: MirrorTable,
  columns: readonly string[],
  tableColumns: readonly string[],
): string {
  const keys = new Set(mirror.key);
  const inFile = new Set(columns);
  const set = [
    ...columns.filter((c) => !keys.has(c)).map((c) => `${q(c)} = s.${q(c)}`),
    ...mirror.columns.filter((c) => !inFile.has(c.name)).map((c) => `${q(c.name)} = NULL`),
    `${q(B.active)} = true`,
    `${q(B.hash)} = s.${q(STAGE_HASH)}`,
    `${q(B.lineHash)} = s.${q(STAGE_LINE)}`,
    `${q(B.changedRun)} = $2::bigint`,
    `${q(B.deactivatedRun)} = NULL`,
  ];
  return `WITH changed AS (
  UPDATE ${q(mirror.name)} AS m SET ${set.join(', ')}
  FROM ${temp(stage)} AS s, ${q(mirror.name)} AS old
  WHERE s.${q(STAGE_OP)} IN ('update', 'reactivate') AND m.ctid = s.${q(STAGE_RID)} AND old.ctid = s.${q(STAGE_RID)} AND m.${q(SCHOOL_COLUMN)} = $1::text
  RETURNING s.${q(STAGE_OP)} AS op, ${rowKeySql(mirror.key, 'm')} AS row_key, ${imageSql('old', tableColumns)} AS before, (s.${q(STAGE_AFTER)} || old.${q(B.insertedRun)}::text || '}')::json AS after
), logged AS (
  ${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, row_key, op, before, after FROM changed
)
SELECT count(*) FILTER (WHERE op = 'update')::integer AS updated, count(*) FILTER (WHERE op = 'reactivate')::integer AS reactivated FROM changed`;
}

/**
 * Turns the staged inserts whose key is one of the school's inactive rows into reactivations of
 * those rows (the digest holds active rows only: see MergePlan.insertsMayReturn), found by the
 * primary key, and counts them. Runs before applyChangedSql.
 */
export function applyReturningSql(stage: string, mirror: MirrorTable): string {
  const keyMatch = mirror.key.map((k) => `m.${q(k)} = s.${q(k)}`).join(' AND ');
  return `WITH moved AS (
  UPDATE ${temp(stage)} AS s SET ${q(STAGE_OP)} = 'reactivate', ${q(STAGE_RID)} = m.ctid
  FROM ${q(mirror.name)} AS m
  WHERE s.${q(STAGE_OP)} = 'insert' AND m.${q(SCHOOL_COLUMN)} = $1::text AND ${keyMatch} AND NOT m.${q(B.active)}
  RETURNING 1
)
SELECT count(*)::integer AS moved FROM moved`;
}

/** Inserts the planned new rows and logs them. */
export function applyInsertsSql(stage: string, mirror: MirrorTable, columns: readonly string[]): string {
  const { target, source } = insertColumns(columns);
  return `WITH added AS (
  INSERT INTO ${q(mirror.name)} AS m (${target})
  SELECT ${source} FROM ${temp(stage)} AS s WHERE s.${q(STAGE_OP)} = 'insert'
  RETURNING ${rowKeySql(mirror.key, 'm')} AS row_key, ${insertImageSql(mirror.key, 'm')} AS after
), logged AS (
  ${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, row_key, 'insert', NULL, after FROM added
)
SELECT count(*)::integer AS inserted FROM added`;
}

/**
 * A deactivation's image: the row's address (school and key) and the three bookkeeping columns
 * deactivating changes, nulls written out (rollback restores exactly these). The values are not
 * in it: deactivating leaves them as they were. Writing every column of each row twice made
 * emptying a table cost several times loading it.
 */
export function flagsImageSql(key: readonly string[], alias: string): string {
  return `json_build_object(${[SCHOOL_COLUMN, ...key, B.active, B.changedRun, B.deactivatedRun].map((k) => `${lit(k)}, ${alias}.${q(k)}`).join(', ')})`;
}

/**
 * Marks the active rows a full file never showed inactive, and logs them: their addresses are in
 * the temporary table `gone`, or, for a few, the array $4 (`tid[]`). Joined to a temporary table
 * without statistics, PostgreSQL read the whole mirror table, inactive rows and all, to find a
 * night's few leavers; an array of addresses is read by a TID scan of just those rows.
 */
export function applyDeactivationsSql(gone: string | null, mirror: MirrorTable): string {
  const where =
    gone === null
      ? `m.ctid = ANY($4::tid[]) AND old.ctid = ANY($4::tid[]) AND old.ctid = m.ctid`
      : `m.ctid = g.rid AND old.ctid = g.rid`;
  return `WITH gone AS (
  UPDATE ${q(mirror.name)} AS m SET ${q(B.active)} = false, ${q(B.changedRun)} = $2::bigint, ${q(B.deactivatedRun)} = $2::bigint
  FROM ${gone === null ? '' : `${temp(gone)} AS g, `}${q(mirror.name)} AS old
  WHERE ${where} AND m.${q(SCHOOL_COLUMN)} = $1::text AND m.${q(B.active)}
  RETURNING ${rowKeySql(mirror.key, 'm')} AS row_key, ${flagsImageSql(mirror.key, 'old')} AS before, ${flagsImageSql(mirror.key, 'm')} AS after
), logged AS (
  ${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, row_key, 'deactivate', before, after FROM gone
)
SELECT count(*)::integer AS deactivated FROM gone`;
}
