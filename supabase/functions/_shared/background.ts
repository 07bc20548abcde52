// Work a function does after its answer is sent (e.g. finishing the store of an entry whose
// durability the caller was not promised, past AI_CACHE_STORE_WAIT_MS): it is handed to
// `EdgeRuntime.waitUntil`, which keeps the instance alive until it settles, on the platform and
// in the local host (its worker preload provides it). Where no EdgeRuntime exists (plain Deno)
// the same contract holds through a registry of pending tasks that a SIGTERM waits for.
declare const EdgeRuntime: { waitUntil(p: Promise<unknown>): void } | undefined;
declare const Deno: {
  addSignalListener(signal: 'SIGTERM', handler: () => void): void;
  exit(code?: number): never;
} | undefined;

const pending = new Set<Promise<void>>();
let drainOnTerm = false;

/**
 * Starts `task` now, without delaying the response; a failure is logged under `label`, never
 * thrown. Started synchronously, so its first database call is on its way before the response
 * leaves the function.
 */
export function afterResponse(label: string, task: () => Promise<unknown>): void {
  const run = async () => {
    try {
      await task();
    } catch (err) {
      console.error(`${label} failed after the response:`, err);
    }
  };
  const p: Promise<void> = run().finally(() => pending.delete(p));
  pending.add(p);
  if (typeof EdgeRuntime !== 'undefined' && EdgeRuntime) {
    EdgeRuntime.waitUntil(p);
  } else if (!drainOnTerm && typeof Deno !== 'undefined' && Deno) {
    drainOnTerm = true;
    Deno.addSignalListener('SIGTERM', () => void settled().then(() => Deno!.exit(0)));
  }
}

/** Resolves once every task started so far has settled. */
export async function settled(): Promise<void> {
  while (pending.size) await Promise.all(pending);
}
