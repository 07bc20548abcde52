// The local stack survives what a laptop does to its database: a restart or a crash under
// load, and a database that stops answering. /rest/v1 and the functions answer 503 while it is
// gone (never a request that hangs) and recover on their own once it is back.
import { afterAll, describe, expect, it } from 'vitest';
import { crashDatabase, freezeDatabase, restartDatabase, startDatabase } from '../helpers/postgres-control.ts';
import { closeAdminSql, FUNCTIONS_URL, marker, SUPABASE_URL } from '../helpers/stack.ts';
import { stackEnv } from '../../src/stack/config.ts';

const SECRET_KEY = process.env.SUPABASE_SECRET_KEY ?? stackEnv().SUPABASE_SECRET_KEY;
/** Far beyond any answer's normal time: a request still open after this is a hung request. */
const HUNG_MS = 45_000;

type Outcome = number | 'hung' | 'reset';

async function call(
  kind: 'rest' | 'function',
  description = 'Site vitrine pour un cabinet dentaire',
): Promise<{ status: Outcome; body: unknown }> {
  const headers = { apikey: SECRET_KEY, authorization: `Bearer ${SECRET_KEY}`, 'content-type': 'application/json' };
  try {
    const res = kind === 'rest'
      ? await fetch(`${SUPABASE_URL}/rest/v1/rpc/get_cache_stats`, {
        method: 'POST',
        headers,
        body: '{}',
        signal: AbortSignal.timeout(HUNG_MS),
      })
      : await fetch(`${FUNCTIONS_URL}/ai-suggest`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ description_projet: description }),
        signal: AbortSignal.timeout(HUNG_MS),
      });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for the failure message.
    }
    return { status: res.status, body };
  } catch (e) {
    return { status: (e as Error).name === 'TimeoutError' ? 'hung' : 'reset', body: String(e) };
  }
}

/** Polls until both /rest/v1 and a function answer 200 again; fails after the deadline. */
async function expectRecovery(deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  const last: Record<string, unknown> = {};
  for (;;) {
    const [rest, fn] = await Promise.all([call('rest'), call('function')]);
    last.rest = rest;
    last.fn = fn;
    if (rest.status === 200 && fn.status === 200) return;
    if (Date.now() > deadline) throw new Error(`not recovered: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Requests in a loop from a few concurrent clients, recording every outcome. */
function load(clients = 4) {
  const outcomes: { kind: string; status: Outcome; body: unknown }[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async (_, i) => {
    const kind = i % 2 === 0 ? 'rest' : 'function';
    while (running) {
      const r = await call(kind);
      outcomes.push({ kind, ...r });
      if (r.status !== 200) await new Promise((res) => setTimeout(res, 20));
    }
  });
  return {
    outcomes,
    async waitFor(n: number) {
      const deadline = Date.now() + 30_000;
      while (outcomes.filter((o) => o.status === 200).length < n) {
        if (Date.now() > deadline) throw new Error(`load did not start: ${JSON.stringify(outcomes.slice(-3))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

afterAll(async () => {
  await closeAdminSql();
});

describe('database restart and crash under load', () => {
  it('pg_ctl restart: requests in flight get 503 at worst, never hang, and traffic recovers on its own', async () => {
    const traffic = load();
    try {
      await traffic.waitFor(4);
      await restartDatabase();
      await expectRecovery();
    } finally {
      await traffic.stop();
    }
    const bad = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503);
    expect(bad, JSON.stringify(bad.slice(0, 3))).toEqual([]);
    for (const o of traffic.outcomes.filter((o) => o.status === 503)) {
      const code = o.body as { code?: string; error?: { code?: string } };
      expect(o.kind === 'rest' ? code.code : code.error?.code).toBe(
        o.kind === 'rest' ? 'PGRST000' : 'database_unavailable',
      );
    }
  });

  it('a crashed database: 503 while it is down, then back without restarting the stack', async () => {
    const traffic = load();
    try {
      await traffic.waitFor(4);
      await crashDatabase();
      try {
        const rest = await call('rest');
        const fn = await call('function');
        expect(rest.status).toBe(503);
        expect(rest.body).toMatchObject({ code: 'PGRST000' });
        expect(fn.status).toBe(503);
        expect(fn.body).toMatchObject({ success: false, error: { code: 'database_unavailable' } });
      } finally {
        await startDatabase();
      }
      await expectRecovery();
    } finally {
      await traffic.stop();
    }
    expect(traffic.outcomes.filter((o) => o.status === 'hung' || o.status === 'reset')).toEqual([]);
  });
});

describe('a database that stops answering', () => {
  it('a function answers 503 database_unavailable at its deadline instead of hanging', async () => {
    const thaw = freezeDatabase();
    let res: Awaited<ReturnType<typeof call>>;
    try {
      res = await call('function', `Boutique en ligne ${marker('frozen')}`);
    } finally {
      thaw();
    }
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ success: false, error: { code: 'database_unavailable' } });
    await expectRecovery();
  }, 90_000);
});
