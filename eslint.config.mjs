// ESLint (flat config): typescript-eslint's recommended rules, the type-aware promise rules
// (an unhandled promise on the extension host is a lost error), and the layer rules of
// DESIGN.md ("layers import downward only"), over src/, test/ and scripts/.
// `npm run lint` runs it; `npm test` counts a lint failure as a failed test.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** What each src/ folder must not import (its README says why). */
const layers = {
  util: ['formats', 'symbolize', 'ingest', 'model', 'capture', 'ui', 'commands', 'cli', 'webview'],
  formats: ['symbolize', 'ingest', 'model', 'capture', 'ui', 'commands', 'cli', 'webview'],
  symbolize: ['ingest', 'model', 'capture', 'ui', 'commands', 'cli', 'webview'],
  model: ['formats', 'symbolize', 'ingest', 'capture', 'ui', 'commands', 'cli', 'webview'],
  ingest: ['capture', 'ui', 'commands', 'cli', 'webview'],
  capture: ['formats', 'symbolize', 'ingest', 'model', 'ui', 'commands', 'cli', 'webview'],
  ui: ['formats', 'symbolize', 'ingest', 'capture', 'commands', 'cli'],
};
const noVscode = ['util', 'formats', 'symbolize', 'model', 'ingest', 'capture'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', '.demo/**', 'src/**/*Wasm.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a value taken apart on purpose and left unused.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    ignores: ['src/webview/**'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['src/webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  ...Object.entries(layers).map(([layer, banned]) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: noVscode.includes(layer) ? [{ name: 'vscode', message: `src/${layer} runs in plain Node (no vscode).` }] : [],
          patterns: [
            {
              group: banned.map((b) => `**/${b}/**`),
              message: `src/${layer} does not import this layer (DESIGN.md: layers import downward only).`,
            },
          ],
        },
      ],
    },
  })),
);
