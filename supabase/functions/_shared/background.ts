// Work a function does after its answer is sent (e.g. finishing the store of an entry whose
// durability the caller was not promised, past AI_CACHE_STORE_WAIT_MS): it is handed to
// `EdgeRuntime.waitUntil`, which keeps the instance alive until it settles, on the platform and
// in the local host (its worker preload provides it, and drains it on SIGTERM). Tasks are also
// kept in a registry, which settled() waits for (tests, where no EdgeRuntime exists).
declare const EdgeRuntime: { waitUntil(p: Promise<unknown>): void } | undefined;

const pending = new Set<Promise<void>>();

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
  if (typeof EdgeRuntime !== 'undefined' && EdgeRuntime) EdgeRuntime.waitUntil(p);
}

/** Resolves once every task started so far has settled. */
export async function settled(): Promise<void> {
  while (pending.size) await Promise.all(pending);
}
