import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { checkRelationshipsJson, type FileLayoutInput } from './relationships.js';

/**
 * The seed system's four fixed-width layouts (STUDENT.DAT, STAFF.DAT, ENROL.DAT, PARENT.DAT),
 * the "hardcoded schemas" it fell back to when relationships.json had no `file_layouts`. They
 * are kept in relationships.json shape so one code path builds them and a school's own layouts.
 */
export const SEED_DAT_LAYOUTS_PATH = fileURLToPath(new URL('../../data/seed-dat-layouts.json', import.meta.url));

let cached: Readonly<Record<string, FileLayoutInput>> | undefined;

/**
 * The seed's `.DAT` layouts keyed by file name, checked like a school's file. The file is static
 * package data, read once per process; a malformed copy is a packaging bug and throws.
 */
export function loadSeedDatLayouts(): Readonly<Record<string, FileLayoutInput>> {
  if (cached) return cached;
  const json = JSON.parse(readFileSync(SEED_DAT_LAYOUTS_PATH, 'utf8')) as { file_layouts?: unknown };
  const checked = checkRelationshipsJson({ file_layouts: json.file_layouts }, SEED_DAT_LAYOUTS_PATH);
  if (checked.file === null) throw new Error(`${SEED_DAT_LAYOUTS_PATH} is malformed: ${checked.problems.join('; ')}`);
  cached = checked.file.fileLayouts;
  return cached;
}
