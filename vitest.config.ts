import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: CLI tests spawn a node process per command, and CI has two cores.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Integration tests start real servers and processes; two cores, so keep the fan-out modest.
    maxWorkers: 2,
    setupFiles: ['functions/core/polyfills.ts'],
    // Builds the CLI bundle once; CLI tests run `berth` from it, as it is published.
    globalSetup: ['test/support/cli-package.ts'],
    // The server-log audit lines of unauthenticated requests (functions/api/audit.ts) are for
    // operators, not test output; the audit tests read the store, not the console.
    onConsoleLog: (log) => !log.includes('"msg":"audit"'),
  },
});
