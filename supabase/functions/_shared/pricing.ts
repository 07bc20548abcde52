// What a call cost, priced at write time from usage. USD per 1M tokens; override or extend with
// AI_CACHE_PRICES='{"my-model":{"input":1,"output":2}}'. Unknown models cost 0 (and say so in logs).
import { env } from './env.ts';

export interface Price { input: number; output: number }

export const DEFAULT_PRICES: Record<string, Price> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
};

let table: Record<string, Price> | undefined;

export function priceTable(): Record<string, Price> {
  if (table) return table;
  const extra = env('AI_CACHE_PRICES');
  table = { ...DEFAULT_PRICES, ...(extra ? (JSON.parse(extra) as Record<string, Price>) : {}) };
  return table;
}

/** Longest known prefix wins, so dated snapshots (gpt-4o-mini-2024-07-18) price like their family. */
export function priceFor(model: string): Price | undefined {
  const prices = priceTable();
  if (prices[model]) return prices[model];
  const family = Object.keys(prices).filter((m) => model.startsWith(m)).sort((a, b) => b.length - a.length)[0];
  return family ? prices[family] : undefined;
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
