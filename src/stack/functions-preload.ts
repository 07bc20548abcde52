// Loaded by the local functions host before each function's index.ts (`deno run --preload`).
//
// 1. `EdgeRuntime.waitUntil(promise)`, as the edge runtime provides it: work a function does
//    after its answer (storing an entry) keeps the worker alive; on SIGTERM the worker waits
//    for it (at most WAIT_UNTIL_GRACE_MS) before it exits. A worker whose host died exits too.
// 2. A line on stdout once the function listens (LISTENING_MARKER), which the host waits for.
// 3. Body draining:
// A function may answer without reading the whole request body (a 401 before it reads, a 413
// once its cap is passed). Deno's server then closes the connection with the upload still
// arriving, and the gateway gets a reset instead of the function's answer. Like the edge
// runtime, read what is left of the body before the response goes out, so the connection
// stays healthy and the caller gets the function's own answer.
import { LISTENING_MARKER } from './functions-preload-marker.ts';

type Handler = (req: Request, info?: unknown) => Response | Promise<Response>;
interface DenoServe {
  serve: (...args: unknown[]) => unknown;
  addSignalListener(signal: 'SIGTERM', handler: () => void): void;
  exit(code?: number): never;
  ppid: number;
  unrefTimer(id: number): void;
}
declare const Deno: DenoServe;

/** How long a stopping worker waits for its waitUntil tasks (the platform allows a similar grace). */
const WAIT_UNTIL_GRACE_MS = 10_000;
const pending = new Set<Promise<unknown>>();
(globalThis as { EdgeRuntime?: unknown }).EdgeRuntime ??= {
  waitUntil(p: Promise<unknown>) {
    const tracked = Promise.resolve(p).catch(() => {}).finally(() => pending.delete(tracked));
    pending.add(tracked);
  },
};
// A host that was killed (SIGKILL) cannot stop its workers: an orphan would keep its port.
const hostPid = Deno.ppid;
Deno.unrefTimer(setInterval(() => Deno.ppid !== hostPid && Deno.exit(0), 1000) as unknown as number);
Deno.addSignalListener('SIGTERM', () => {
  const grace = new Promise((r) => setTimeout(r, WAIT_UNTIL_GRACE_MS));
  void Promise.race([Promise.allSettled([...pending]), grace]).then(() => Deno.exit(0));
});

/** Bodies larger than this are not worth reading to the end: the connection is dropped instead. */
const DRAIN_LIMIT_BYTES = 256 * 1024 * 1024;

async function drain(req: Request): Promise<void> {
  if (!req.body || req.bodyUsed || req.body.locked) return;
  const reader = req.body.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > DRAIN_LIMIT_BYTES) return void (await reader.cancel());
    }
  } catch {
    // The caller went away: nothing left to protect.
  }
}

function wrap(handler: Handler): Handler {
  return async (req, info) => {
    const res = await handler(req, info);
    await drain(req);
    return res;
  };
}

const onListen = () => console.log(LISTENING_MARKER);

const serve = Deno.serve.bind(Deno);
Deno.serve = (...args: unknown[]) => {
  if (typeof args[0] === 'function') args = [{ onListen }, wrap(args[0] as Handler)];
  else if (typeof args[1] === 'function') args = [{ onListen, ...(args[0] as object) }, wrap(args[1] as Handler)];
  else if (args[0] && typeof (args[0] as { handler?: unknown }).handler === 'function') {
    const opts = args[0] as { handler: Handler };
    args[0] = { onListen, ...opts, handler: wrap(opts.handler) };
  }
  return serve(...args);
};
