// @ts-check
import js from '@eslint/js';
import { fileURLToPath } from 'node:url';

import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first. A folder imports its own layer and those below, never one
 * above: the store knows nothing of loading files, the pipeline nothing of jobs or HTTP, and only
 * the app and the CLI put everything together. `npm run lint` enforces it (no-restricted-paths),
 * with deep imports: another folder is imported through its index.ts.
 */
const ROOT = fileURLToPath(new URL('.', import.meta.url));

const LAYERS = [
  ['errors', 'version.ts'],
  ['util', 'config'],
  ['layouts'],
  ['extract'],
  ['schema'],
  ['validate'],
  ['plan'],
  ['store', 'load', 'notify', 'generate'],
  ['observability'],
  ['pipeline'],
  ['jobs', 'http'],
  ['app'],
  ['cli'],
];

const layerZones = LAYERS.flatMap((layer, i) =>
  layer.map((folder) => ({
    target: `./src/${folder}`,
    from: LAYERS.slice(i + 1)
      .flat()
      .map((above) => `./src/${above}`),
    message: `${folder} is below these in the layers of eslint.config.js: move the shared part down, or pass it in.`,
  })),
).filter((zone) => zone.from.length > 0);

const RESTRICTED_SYNTAX = [
  { selector: 'TSEnumDeclaration', message: 'Use a string union or an as-const table instead of enum.' },
  { selector: 'ExportAllDeclaration', message: 'Name what a module exports: export { a, type B } from ….' },
];

/** `(err as Error).message` is wrong for a thrown string or object; tests may know what they threw. */
const CAST_TO_ERROR = {
  selector: "TSAsExpression > TSTypeReference.typeAnnotation[typeName.name='Error']",
  message: 'A thrown value may be anything: coerceError(err) from src/errors.',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', 'bench/data/', 'examples/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', ...RESTRICTED_SYNTAX, CAST_TO_ERROR],
    },
  },
  {
    // No circular imports (STYLE.md): a cycle makes the load order decide what is undefined.
    // Static and dynamic imports count; type-only ones are erased and do not. Without the .ts
    // extensions and parser the rule cannot read an imported file and silently finds nothing
    // (test/lint-boundaries.test.ts checks it still fails a cycle). Sources import `./x.js` for
    // `x.ts`; the resolver maps the extension back.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [
        importX.createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: layerZones }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // `../x/y.js` reaches into another folder: import `../x/index.js`, which says what x offers.
              regex: '^(\\.\\./)+[a-z-]+/(?!index\\.js$)',
              message: "Import another folder through its index.js; add what you need to the folder's exports.",
            },
          ],
        },
      ],
    },
  },
  {
    // The dashboard's script runs in the browser.
    files: ['web/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-restricted-syntax': ['error', ...RESTRICTED_SYNTAX] },
  },
  {
    // Only the config module reads the environment (STYLE.md: one typed config).
    files: ['src/**'],
    ignores: ['src/config/**', 'src/cli/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config.' },
      ],
    },
  },
);
