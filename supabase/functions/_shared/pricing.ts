// What a call cost, priced at write time from usage. USD per 1M tokens; override or extend with
// AI_CACHE_PRICES='{"my-model":{"input":1,"output":2}}'. Unknown models cost 0 (and say so in logs).
import { config, DEFAULT_PRICES, findPrice, type Price } from './config.ts';

export { DEFAULT_PRICES, type Price };

/** The default table with AI_CACHE_PRICES merged over it (validated at boot, see config.ts). */
export function priceTable(): Record<string, Price> {
  return config().prices;
}

/** Longest known prefix wins, so dated snapshots (gpt-4o-mini-2024-07-18) price like their family. */
export function priceFor(model: string): Price | undefined {
  return findPrice(priceTable(), model);
}

export function costUsd(model: string, promptTokens: number, completionTokens: number): number {
  const price = priceFor(model);
  if (!price) return 0;
  return Math.round(((promptTokens * price.input + completionTokens * price.output) / 1_000_000) * 1e6) / 1e6;
}
