// A school's nights, one after another, for the year-of-nights benchmark: night 1 is a generated
// school; each later night is the one before with about 1% of its rows changed, as a school's
// export changes: students join, leave and (a month after leaving) drop out of the export; some
// students' preferred names and some families' phone numbers change; the day's absences are
// added and the oldest fall out of the export (a rolling window, so the export stays the same
// size and any growth in a night's cost comes from the database's history, not from more input).
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Per night: students updated, joining and leaving; families updated; absences added and dropped. */
const ST_UPDATES = 15;
const ST_JOINS = 3;
const ST_LEAVES = 3;
const LEFT_KEPT_NIGHTS = 30;
const UM_UPDATES = 14;
const SXAB_ADDED = 60;

/** One CSV record's fields (quotes understood). */
function splitCsv(line) {
  const out = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (line[q + 1] === '"') {
          v += `${line.slice(i, q)}"`;
          i = q + 2;
        } else {
          v += line.slice(i, q);
          i = q + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      out.push(line.slice(i, c < 0 ? line.length : c));
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) return out;
    i++; // the comma
    if (i === line.length) {
      out.push('');
      return out;
    }
  }
}

const cell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const joinCsv = (fields) => fields.map(cell).join(',');

/** A file's records as lines (a quoted line break keeps its record whole). */
function records(text) {
  const lines = text.split('\r\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    let rec = lines[i];
    while ((rec.match(/"/g)?.length ?? 0) % 2 === 1 && i + 1 < lines.length) rec += `\r\n${lines[++i]}`;
    out.push(rec);
  }
  return out;
}

/** 9/05/2024 12:00:00 AM, as the export writes a date. */
const exportDate = (d) =>
  `${d.getUTCDate()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()} 12:00:00 AM`;

/**
 * The nights of the school generated in `schoolDir`, written one at a time into `outDir` (the
 * folder a run reads). `next()` writes the next night and returns what changed in it.
 */
export async function schoolNights(schoolDir, outDir, seed = 7) {
  const { createRandom } = await import('../dist/generate/random.js');
  // The generator's own seeded stream: the same nights every run.
  const pick = createRandom(seed, 'nights').int;
  await mkdir(outDir, { recursive: true });
  const files = {};
  for (const name of await readdir(schoolDir)) {
    const text = await readFile(join(schoolDir, name), 'latin1');
    const [header, ...rows] = records(text);
    files[name] = { header, cols: splitCsv(header), rows: rows.map(splitCsv) };
  }
  const st = files['ST_8865.csv'];
  const um = files['UM_8865.csv'];
  const sxab = files['SXAB_8865.csv'];
  const col = (f, name) => {
    const i = f.cols.indexOf(name);
    if (i < 0) throw new Error(`no ${name} column`);
    return i;
  };
  const [STKEY, PREF, FIRST, STATUS] = ['STKEY', 'PREF_NAME', 'FIRST_NAME', 'STATUS'].map((c) => col(st, c));
  const PHONE = col(um, 'TELEPHONE');
  const [SXAB_ID, SX_STKEY, SX_DATE] = ['SXAB_ID', 'STKEY', 'ABSENCE_DATE'].map((c) => col(sxab, c));
  let nextAbsence = Math.max(...sxab.rows.map((r) => Number(r[SXAB_ID]))) + 1;
  /** Night on which each leaver left, by STKEY. */
  const leftOn = new Map();
  let night = 0;

  const bytesOf = (f, r) => Buffer.byteLength(joinCsv(r), 'latin1') + 2;
  /**
   * Writes the files (all of them on night 1, then those that changed), each as this module
   * writes CSV from night 1 on: night 2 must not differ from night 1 in quoting alone.
   */
  async function write(names) {
    for (const name of names) {
      const f = files[name];
      const text = `${f.header}\r\n${f.rows.map((r) => `${joinCsv(r)}\r\n`).join('')}`;
      await writeFile(join(outDir, name), text, 'latin1');
    }
  }

  return {
    get night() {
      return night;
    },
    /** Writes the next night; returns { night, rows, changedRows, changedBytes } (night 1: the school as generated). */
    async next() {
      night++;
      if (night === 1) {
        await write(Object.keys(files));
        const rows = Object.values(files).reduce((n, f) => n + f.rows.length, 0);
        return { night, rows, changedRows: rows, changedBytes: 0 };
      }
      let changedRows = 0;
      let changedBytes = 0;
      const changed = (f, r) => {
        changedRows++;
        changedBytes += bytesOf(f, r);
      };
      const active = () => st.rows.filter((r) => r[STATUS] !== 'LEFT');
      // Students: preferred names change, some join (a copy of another's row under a new key), some leave.
      for (let i = 0; i < ST_UPDATES; i++) {
        const r = st.rows[pick(st.rows.length)];
        const name = st.rows[pick(st.rows.length)][FIRST];
        if (name && name !== r[PREF]) {
          r[PREF] = name;
          changed(st, r);
        }
      }
      for (let i = 0; i < ST_JOINS; i++) {
        const r = [...st.rows[pick(st.rows.length)]];
        r[STKEY] = `J${String(night).padStart(3, '0')}${i}`;
        r[STATUS] = 'ACTV';
        st.rows.push(r);
        changed(st, r);
      }
      const staying = active();
      for (let i = 0; i < ST_LEAVES && staying.length > 0; i++) {
        const r = staying.splice(pick(staying.length), 1)[0];
        r[STATUS] = 'LEFT';
        leftOn.set(r[STKEY], night);
        changed(st, r);
      }
      st.rows = st.rows.filter((r) => {
        const gone = leftOn.get(r[STKEY]) === night - LEFT_KEPT_NIGHTS;
        if (gone) changed(st, r);
        return !gone;
      });
      // Families: phone numbers change.
      for (let i = 0; i < UM_UPDATES; i++) {
        const r = um.rows[pick(um.rows.length)];
        r[PHONE] = `03 9${String(night % 1000).padStart(3, '0')} ${String(pick(10000)).padStart(4, '0')}`;
        changed(um, r);
      }
      // The day's absences: distinct students, a new date each night; the oldest drop out.
      const day = exportDate(new Date(Date.UTC(2025, 1, 1) + night * 86_400_000));
      const students = active();
      for (let i = 0; i < SXAB_ADDED && students.length > 0; i++) {
        const r = [...sxab.rows[pick(sxab.rows.length)]];
        r[SXAB_ID] = String(nextAbsence++);
        r[SX_STKEY] = students.splice(pick(students.length), 1)[0][STKEY];
        r[SX_DATE] = day;
        sxab.rows.push(r);
        changed(sxab, r);
      }
      for (const r of sxab.rows.splice(0, SXAB_ADDED)) changed(sxab, r);
      await write(['ST_8865.csv', 'UM_8865.csv', 'SXAB_8865.csv']);
      const rows = Object.values(files).reduce((n, f) => n + f.rows.length, 0);
      return { night, rows, changedRows, changedBytes };
    },
  };
}
