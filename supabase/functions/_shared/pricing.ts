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

/**
 * USD, unrounded to the cent or the micro-dollar: the database stores costs as numeric(20, 12),
 * so a few-token answer keeps its exact price and sums of savings match the token-priced truth.
 * Rounded to 1e-12 only to drop binary floating-point noise (far below a micro-cent, 1e-8).
 */
export function costUsd(model: string, promptTokens: number, completionTokens: number): number {
  const price = priceFor(model);
  if (!price) return 0;
  return Math.round(((promptTokens * price.input + completionTokens * price.output) / 1_000_000) * 1e12) / 1e12;
}
