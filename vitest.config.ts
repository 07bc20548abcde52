import { defineConfig } from 'vitest/config';

// Two cores: a couple of files at a time; suites are parallel-safe (own companies, users, keys).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    maxWorkers: 2,
    // Deadlines, not timing goals: the admin suites start many CLI processes, slow on a loaded machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
