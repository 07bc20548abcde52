// Suites that delete or clear data that is not their own (the cron suite runs the global
// cleanup) run against a local stack only. Aimed at a remote project (SUPABASE_URL or
// SUPABASE_DB_URL elsewhere) they refuse, unless STACK_TESTS_ALLOW_DESTRUCTIVE=1 says so.
export const ALLOW_DESTRUCTIVE_ENV = 'STACK_TESTS_ALLOW_DESTRUCTIVE';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Why a destructive step must not run against these URLs, or null when it may. */
export function destructiveRefusal(urls: string[], env: NodeJS.ProcessEnv, what: string): string | null {
  if (env[ALLOW_DESTRUCTIVE_ENV] === '1') return null;
  const remote = urls.map((u) => new URL(u).hostname).filter((h) => !LOCAL_HOSTS.has(h));
  if (remote.length === 0) return null;
  return `refusing to run against ${
    [...new Set(remote)].join(', ')
  }: ${what}. Set ${ALLOW_DESTRUCTIVE_ENV}=1 to allow it on that project.`;
}
