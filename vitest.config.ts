import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: CLI tests spawn node + tsx per command, and CI has two cores.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Integration tests start real servers and processes; two cores, so keep the fan-out modest.
    maxWorkers: 2,
    setupFiles: ['functions/core/polyfills.ts'],
  },
});
