import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and processes; two cores, so keep the fan-out modest.
    maxWorkers: 2,
    setupFiles: ['functions/core/polyfills.ts'],
  },
});
