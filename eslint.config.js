// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * `npm run lint`: ESLint's and typescript-eslint's recommended rules. Options are narrowed where
 * the code follows a deliberate convention; no rule is turned off for the whole tree.
 */
export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'web/dist/', 'coverage/', '.bench/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a value left unused on purpose (`for (const _ of …)`, `(_request, reply)`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // `interface A extends B {}` names a type for its users (test/helpers/engines.ts: EngineContext).
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    // Plain JavaScript files (this one, bin/) run on Node: its globals, without a dependency for them.
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((name) => [
          name,
          'readonly',
        ]),
      ),
    },
  },
);
