/**
 * StrykerJS over the app's sync engine (`make mutation`), run from the repository root
 * because the tests live in tests/pwa/ and import pwa/src/ by relative path: the sandbox
 * holds only those two, the golden exchanges and the shared vectors; node_modules is linked.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  mutate: ['pwa/src/sync/*.js'],
  ignorePatterns: [
    '/**',
    '!/pwa/package.json',
    '!/pwa/src/**',
    '!/tests/pwa/**',
    '!/tests/golden/**',
    '!/tests/sync/*.json',
  ],
  testRunner: 'tap',
  // i18n.test.mjs reads the source text, which Stryker instruments; it runs no sync code.
  tap: { testFiles: ['tests/pwa/!(i18n).test.mjs'] },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 10000,
  reporters: ['clear-text', 'json', 'progress'],
  jsonReporter: { fileName: 'reports/mutation/stryker.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
