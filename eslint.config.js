// @ts-check
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a string union or an as-const table instead of enum.' },
        { selector: 'ExportAllDeclaration', message: 'Name what a module exports: export { a, type B } from ….' },
      ],
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
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The dashboard's script runs in the browser.
    files: ['web/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
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
