import type { Dialect, Probe } from './targets.js';

/**
 * One school's mirror rows in a form two schools' loads can be compared by: the school column
 * dropped, null columns left out (both sides come from the same table, so nothing is lost), and
 * run ids in the bookkeeping replaced by the run's ordinal among the school's runs, since the
 * same nights loaded for another school get other run ids.
 */

export type MirrorRow = Record<string, unknown>;

const RUN_COLUMNS = ['_inserted_run', '_changed_run', '_deactivated_run'] as const;

async function tableExists(probe: Probe, dialect: Dialect, name: string): Promise<boolean> {
  const sql =
    dialect === 'sqlite'
      ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`
      : `SELECT table_name AS name FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()`;
  return (await probe.all(sql, [name])).length > 0;
}

/** The school's runs, oldest first, as `run id → "run #n"` (n from 1). */
export async function runOrdinals(probe: Probe, school: string): Promise<Map<number, string>> {
  const runs = await probe.all(`SELECT id FROM etl_runs WHERE school_id = ? ORDER BY id`, [school]);
  return new Map(runs.map((r, i) => [Number(r.id), `run #${i + 1}`]));
}

/**
 * Every row of `cases_<table>` for the school, inactive ones included, ordered by `key`. A table
 * that does not exist yet reads as empty.
 */
export async function readMirror(
  probe: Probe,
  dialect: Dialect,
  table: string,
  key: string,
  school: string,
): Promise<MirrorRow[]> {
  const name = `cases_${table.toLowerCase()}`;
  if (!(await tableExists(probe, dialect, name))) return [];
  const ordinal = await runOrdinals(probe, school);
  const rows = await probe.all(`SELECT * FROM ${name} WHERE school_id = ? ORDER BY ${key}`, [school]);
  return rows.map((row) => {
    const out: MirrorRow = {};
    for (const [column, value] of Object.entries(row)) {
      if (column === 'school_id' || value === null || value === undefined) continue;
      out[column] = (RUN_COLUMNS as readonly string[]).includes(column)
        ? (ordinal.get(Number(value)) ?? `unknown run ${String(value)}`)
        : value;
    }
    return out;
  });
}
