import { defineConfig } from 'vitest/config';

// Two cores: a couple of files at a time; suites are parallel-safe (own companies, users, keys).
// Suites that restart, crash or freeze the database run last and alone (groupOrder), so they
// never pull the database from under another suite.
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    maxWorkers: 2,
    // Generous: suites spawn processes and share 2 cores with other stacks; tests never assert timing.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suites',
          include: ['test/**/*.test.ts'],
          exclude: ['test/disruptive/**', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'disruptive',
          include: ['test/disruptive/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true }, threads: { singleThread: true } },
          testTimeout: 90_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
