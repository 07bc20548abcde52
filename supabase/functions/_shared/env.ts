// Reads configuration the same way under Deno (Edge Functions) and Node (vitest, bench).
declare const Deno: { env: { get(name: string): string | undefined } } | undefined;

export function env(name: string): string | undefined {
  if (typeof Deno !== 'undefined') return Deno.env.get(name);
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
}

export function requireEnv(name: string): string {
  const value = env(name);
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
}

export function intEnv(name: string, fallback: number): number {
  const raw = env(name);
  const n = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(n) ? n : fallback;
}
