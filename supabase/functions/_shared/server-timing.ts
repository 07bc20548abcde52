// Server-Timing (W3C) on every answer: where a request's time went (auth, db, model, store),
// readable in browser dev tools and by the bench, at the cost of a few performance.now() calls.
import { AsyncLocalStorage } from 'node:async_hooks';

export class ServerTiming {
  private readonly marks: string[] = [];
  private last = performance.now();
  private readonly start = this.last;

  /** Records the time since the previous mark under `name`. */
  mark(name: string): void {
    const now = performance.now();
    this.marks.push(`${name};dur=${(now - this.last).toFixed(2)}`);
    this.last = now;
  }

  header(): Record<string, string> {
    return { 'server-timing': [...this.marks, `total;dur=${(performance.now() - this.start).toFixed(2)}`].join(', ') };
  }
}

// Database calls per request, counted where every RPC goes (callRpc) and reported first in
// Server-Timing as `rpc;dur=<ms spent in calls>;desc="<transport> x<count>"`, e.g.
// `rpc;dur=1.84;desc="postgres x1"`: the bench reads how many round trips a hit costs.

interface DbCalls {
  count: number;
  ms: number;
  via: string;
}

const dbCalls = new AsyncLocalStorage<DbCalls>();

/** Called by callRpc after each database call. */
export function recordDbCall(via: string, ms: number): void {
  const s = dbCalls.getStore();
  if (!s) return;
  s.count++;
  s.ms += ms;
  s.via = s.via && s.via !== via ? 'mixed' : via;
}

/** Wraps a function's handler so its answer carries the count of database calls made before it. */
export function withDbCallTiming<A extends unknown[]>(
  handler: (req: Request, ...rest: A) => Response | Promise<Response>,
): (req: Request, ...rest: A) => Promise<Response> {
  return (req, ...rest) => {
    const state: DbCalls = { count: 0, ms: 0, via: '' };
    return dbCalls.run(state, async () => {
      const res = await handler(req, ...rest);
      const entry = `rpc;dur=${state.ms.toFixed(2)};desc="${state.via || 'none'} x${state.count}"`;
      const existing = res.headers.get('server-timing');
      const value = existing ? `${entry}, ${existing}` : entry;
      try {
        res.headers.set('server-timing', value);
        return res;
      } catch {
        // Immutable headers (a proxied fetch response): copy them.
        const headers = new Headers(res.headers);
        headers.set('server-timing', value);
        return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
      }
    });
  };
}
