import { defineConfig } from 'vitest/config';

// Two cores: a couple of files at a time; suites are parallel-safe (own companies, users, keys).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    maxWorkers: 2,
    // Generous: suites spawn processes and share 2 cores with other stacks; tests never assert timing.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
