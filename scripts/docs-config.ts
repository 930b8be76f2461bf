/**
 * `npm run docs:config`: writes the configuration's documentation from src/config/schema.ts, the
 * table each default lives in: the short table between the markers in README.md's Configuration
 * section, and docs/configuration.md with every variable. test/config-docs.test.ts fails when
 * either is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';

import {
  README_MARKERS,
  renderConfigurationDoc,
  renderReadmeTable,
  replaceBetweenMarkers,
} from '../src/config/index.js';

const readmeUrl = new URL('../README.md', import.meta.url);
const readme = replaceBetweenMarkers(await readFile(readmeUrl, 'utf8'), renderReadmeTable());
if (readme === null) {
  console.error(`README.md needs ${README_MARKERS.start} and ${README_MARKERS.end} in its Configuration section`);
  process.exitCode = 1;
} else {
  await writeFile(readmeUrl, readme);
  await writeFile(new URL('../docs/configuration.md', import.meta.url), renderConfigurationDoc());
  console.log('wrote README.md (configuration table) and docs/configuration.md');
}
