import { defineConfig } from 'vitest/config';

// Two cores: a couple of files at a time; suites are parallel-safe (own companies, users, keys).
// Suites that restart, crash or freeze the database run last and alone (groupOrder), so they
// never pull the database from under another suite.
// supabase-js needs a native WebSocket at createClient; Node 20 has it behind a flag, so the test
// workers get it however vitest is started (`npm test` or `npx vitest run <file>`).
const execArgv = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined'
  ? ['--experimental-websocket']
  : [];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    maxWorkers: 2,
    // Generous: suites spawn processes and share 2 cores with other stacks; tests never assert timing.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    poolOptions: { forks: { execArgv }, threads: { execArgv } },
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
