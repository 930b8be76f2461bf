import type { Dialect, Probe } from './targets.js';

/**
 * A database's whole state after a night, in a form two databases that loaded the same nights
 * can be compared by: the mirror tables the night model writes (inactive rows and bookkeeping
 * included) and the ledger. Run and rollback ids become ordinals, since a database that saw a
 * killed run has used more ids; what differs by nature (times, host, pid, duration, the archive
 * folder's name) is left out. Runs that only a killed attempt leaves behind are left out too:
 * one still `running` (the killed run itself), one the next run marked ETL_RUN_INTERRUPTED, and a
 * `skipped` one (the retry of a night whose kill came after its commit).
 */

export type State = Record<string, ReadonlyArray<Record<string, unknown>>>;

/** The tables the night model writes, with their keys. */
const MIRRORS = [
  { name: 'cases_st', key: 'stkey' },
  { name: 'cases_sf', key: 'sfkey' },
] as const;

const RUN_COLUMNS = new Set([
  '_inserted_run',
  '_changed_run',
  '_deactivated_run',
  'run_id',
  'target_run_id',
  'unchanged_since',
]);
/** Columns holding JSON (text on SQLite, json on PostgreSQL) that may name runs. */
const JSON_COLUMNS = new Set(['run_ids', 'detail', 'before', 'after']);
const RUN_DROPPED = ['id', 'host', 'pid', 'started_at', 'finished_at', 'duration_ms', 'archive_path', 'job_id'];

async function tables(probe: Probe, dialect: Dialect): Promise<Set<string>> {
  const sql =
    dialect === 'sqlite'
      ? `SELECT name FROM sqlite_master WHERE type = 'table'`
      : `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`;
  return new Set((await probe.all(sql)).map((r) => String(r.name)));
}

/** Is this run the trace of a killed attempt rather than one of the night's own runs? */
function isKillTrace(run: Record<string, unknown>): boolean {
  return run.status === 'running' || run.status === 'skipped' || run.error_code === 'ETL_RUN_INTERRUPTED';
}

/** Replaces every run id inside parsed JSON (rollback detail, a change's before and after) by its ordinal. */
function mapJsonRuns(value: unknown, runs: ReadonlyMap<number, string>): unknown {
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'number' ? (runs.get(v) ?? `unknown run ${v}`) : mapJsonRuns(v, runs)));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const isRun = /^run_?id$/i.test(k) || RUN_COLUMNS.has(k);
    out[k] = isRun && typeof v === 'number' ? (runs.get(v) ?? `unknown run ${v}`) : mapJsonRuns(v, runs);
  }
  return out;
}

/** The comparable state of `probe`'s database; tables not created yet read as empty. */
export async function readFaultState(probe: Probe, dialect: Dialect): Promise<State> {
  const present = await tables(probe, dialect);
  const all = async (table: string, order: string): Promise<Array<Record<string, unknown>>> =>
    present.has(table) ? probe.all(`SELECT * FROM ${table} ORDER BY ${order}`) : [];

  const runRows = (await all('etl_runs', 'id')).filter((r) => !isKillTrace(r));
  const runs = new Map(runRows.map((r, i) => [Number(r.id), `run #${i + 1}`]));
  const rollbackRows = await all('etl_rollbacks', 'id');
  const rollbacks = new Map(rollbackRows.map((r, i) => [Number(r.id), `rollback #${i + 1}`]));
  const mapRow = (row: Record<string, unknown>, drop: readonly string[] = []): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [column, value] of Object.entries(row)) {
      if (drop.includes(column)) continue;
      if (RUN_COLUMNS.has(column) && value !== null)
        out[column] = runs.get(Number(value)) ?? `unknown run ${String(value)}`;
      else if (column === 'rollback_id' && value !== null)
        out[column] = rollbacks.get(Number(value)) ?? `unknown rollback ${String(value)}`;
      else if (JSON_COLUMNS.has(column) && value !== null)
        out[column] = mapJsonRuns(typeof value === 'string' ? JSON.parse(value) : value, runs);
      else out[column] = value;
    }
    return out;
  };
  // The run files and rejects of a kill trace (a skipped retry records its run's files) go with it.
  const traceIds = new Set((await all('etl_runs', 'id')).filter(isKillTrace).map((r) => Number(r.id)));
  const kept = (row: Record<string, unknown>): boolean => !traceIds.has(Number(row.run_id));

  const state: State = {};
  for (const { name, key } of MIRRORS) state[name] = (await all(name, `school_id, ${key}`)).map((r) => mapRow(r));
  state.etl_runs = runRows.map((r) => mapRow(r, RUN_DROPPED));
  state.etl_run_files = (await all('etl_run_files', 'run_id, file_name')).filter(kept).map((r) => mapRow(r));
  state.etl_rejects = (await all('etl_rejects', 'id')).filter(kept).map((r) => mapRow(r, ['id']));
  // By row within a run: PostgreSQL may write one run's changes to different rows in another
  // order (only a row changed twice in a run needs its order, which id keeps).
  state.etl_changes = (await all('etl_changes', 'run_id, table_name, row_key, id')).map((r) => mapRow(r, ['id']));
  state.etl_rollbacks = rollbackRows.map((r) => mapRow(r, ['id', 'started_at', 'finished_at']));
  return state;
}
