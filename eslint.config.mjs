// Type-aware lint (issue #15): `npm run lint` = `eslint --max-warnings 0 .`.
// TypeScript files are checked with type information from the three tsconfigs (tsconfig.json,
// webview/tsconfig.json, test/e2e/tsconfig.json) through the project service; scripts/*.ts, which no
// tsconfig includes, gets the default project (the root compiler options).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**', 'out/**', 'node_modules/**', '.webgpu-mesa/**', 'test/e2e/harness/**', 'test/e2e/.harness/**',
      'test-output/**', 'bench-output/**', 'runs/**', 'training-runs/**', 'scratch/**', '.vscode-test/**',
      // Plain JavaScript (bin/, build scripts, the VS Code test runner, the e2e probe extension) is not linted.
      '**/*.js', '**/*.mjs', '**/*.cjs',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['src/**/*.ts', 'webview/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['scripts/*.ts'],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's test()/describe() return promises that the runner itself awaits and reports.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A leading underscore marks a binding that is unused on purpose (a skipped tuple slot, a rest sibling).
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_',
      }],
    },
  },
);
