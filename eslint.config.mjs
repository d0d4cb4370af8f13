// Lint: typescript-eslint's recommended rules on the TypeScript sources, ESLint's own on the
// JavaScript (tests, benches, scripts, editor code). Formatting is prettier's (npm run format).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'models/**', 'coverage/**', 'scratch*/**', '**/*.tmp.js'] },
  {
    files: ['src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // `any` only with a comment saying why (the house rule): the comment is the disable line.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Node-RED's own pattern: a node's constructor names `this` once, as `node`.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests hand functions to a real browser (page.evaluate): their bodies run there.
    files: ['test/**/*.js'],
    languageOptions: { globals: { ...globals.node, ...globals.mocha, ...globals.browser, $: 'readonly' } },
    rules: { 'preserve-caught-error': 'off' },
  },
  {
    files: ['resources/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, RED: 'readonly', $: 'readonly', jQuery: 'readonly' } },
  },
);
