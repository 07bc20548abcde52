// The functions' configuration, read from the environment and validated once, when a function
// boots: a bad value (AI_CACHE_PRICES that is not a price table, a default model nobody can
// price or ai-chat may not use, a non-numeric limit) stops the function with a message naming
// the variable, instead of failing one request at a time.
import { z } from 'zod';
import { env } from './env.ts';

export interface Price {
  input: number;
  output: number;
}

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

const DEFAULT_ALLOWED_MODELS = 'gpt-4o-mini,gpt-4o,gpt-4.1,gpt-4.1-mini,gpt-4.1-nano';
const DEFAULT_GATEWAY_MODELS = `${DEFAULT_ALLOWED_MODELS},text-embedding-3-small,text-embedding-3-large`;

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);
const modelName = z.string().trim().min(1);
const modelList = (fallback: string) =>
  z.string().default(fallback)
    .transform((s) => s.split(',').map((m) => m.trim()).filter(Boolean))
    .pipe(z.array(modelName).min(1));

const PriceTable = z.record(
  modelName,
  z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }).strict(),
);

const Schema = z.object({
  AI_DEFAULT_MODEL: modelName.default('gpt-4o-mini'),
  AI_ALLOWED_MODELS: modelList(DEFAULT_ALLOWED_MODELS),
  AI_SUGGEST_MODEL: modelName.optional(),
  AI_CACHE_PRICES: z.string().optional().transform((s, ctx) => {
    if (!s) return {};
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  }).pipe(PriceTable),
  AI_CACHE_TTL_SECONDS: int(1, 7 * 24 * 3600),
  AI_CACHE_LEASE_MS: int(1, 30_000),
  AI_CACHE_STORE_WAIT_MS: int(0, 50),
  AI_CACHE_STORE_PROMPTS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  AI_CHAT_MAX_BODY_BYTES: int(1, 64 * 1024),
  AI_CHAT_MAX_MESSAGE_CHARS: int(1, 16_000),
  AI_CHAT_HISTORY_LIMIT: int(0, 20),
  AI_SUGGEST_TTL_SECONDS: int(1, 30 * 24 * 3600),
  AI_SUGGEST_TRUSTED_PROXY_HOPS: int(0, 1),
  OPENAI_TIMEOUT_MS: int(1, 60_000),
  OPENAI_MAX_RETRIES: int(0, 2),
  AI_MODEL_DEADLINE_MS: int(1, 120_000),
  AI_DB_TIMEOUT_MS: int(1, 10_000),
  AI_GATEWAY_MODELS: modelList(DEFAULT_GATEWAY_MODELS),
  AI_GATEWAY_TTL_SECONDS: z.coerce.number().int().min(1).optional(),
  AI_GATEWAY_MAX_BODY_BYTES: int(1, 4 * 1024 * 1024),
  AI_GATEWAY_MAX_EMBEDDING_ITEMS: int(1, 2048),
});

export interface FunctionConfig {
  defaultModel: string;
  allowedModels: string[];
  suggestModel: string;
  prices: Record<string, Price>;
  cacheTtlSeconds: number;
  leaseMs: number;
  /** How long an answer not promised durable waits for its store before it is sent (the rest runs after). */
  storeWaitMs: number;
  storePrompts: boolean;
  chatMaxBodyBytes: number;
  chatMaxMessageChars: number;
  chatHistoryLimit: number;
  suggestTtlSeconds: number;
  trustedProxyHops: number;
  openaiTimeoutMs: number;
  openaiMaxRetries: number;
  /** The whole model budget of one request (every attempt and retry), under the platform's 150 s cut. */
  modelDeadlineMs: number;
  dbTimeoutMs: number;
  /** ai-gateway: the models callers may use (and GET /v1/models lists). */
  gatewayModels: string[];
  /** ai-gateway: lifetime of an entry whose cache type has no policy row (default AI_CACHE_TTL_SECONDS). */
  gatewayTtlSeconds: number;
  gatewayMaxBodyBytes: number;
  gatewayMaxEmbeddingItems: number;
}

/** Longest known prefix wins, so dated snapshots (gpt-4o-mini-2024-07-18) price like their family. */
export function findPrice(prices: Record<string, Price>, model: string): Price | undefined {
  if (prices[model]) return prices[model];
  const family = Object.keys(prices).filter((m) => model.startsWith(m)).sort((a, b) => b.length - a.length)[0];
  return family ? prices[family] : undefined;
}

export class ConfigError extends Error {}

/** Validates `vars` (default: the environment); throws a ConfigError listing every problem. */
export function parseConfig(vars: Record<string, string | undefined>): FunctionConfig {
  const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const input = Object.fromEntries(Object.keys(Schema.shape).map((k) => [k, blank(vars[k])]));
  const parsed = Schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) =>
      `${String(i.path[0] ?? 'config')}${i.path.length > 1 ? '.' + i.path.slice(1).join('.') : ''}: ${i.message}`
    );
    throw new ConfigError(`invalid function configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  const prices = { ...DEFAULT_PRICES, ...c.AI_CACHE_PRICES };
  const suggestModel = c.AI_SUGGEST_MODEL ?? c.AI_DEFAULT_MODEL;
  const problems: string[] = [];
  for (const [name, model] of [['AI_DEFAULT_MODEL', c.AI_DEFAULT_MODEL], ['AI_SUGGEST_MODEL', suggestModel]]) {
    if (!findPrice(prices, model)) {
      problems.push(`${name}: unknown model ${JSON.stringify(model)}; give its price in AI_CACHE_PRICES`);
    }
  }
  if (!c.AI_ALLOWED_MODELS.includes(c.AI_DEFAULT_MODEL)) {
    problems.push(`AI_DEFAULT_MODEL: ${JSON.stringify(c.AI_DEFAULT_MODEL)} is not one of AI_ALLOWED_MODELS`);
  }
  if (problems.length) throw new ConfigError(`invalid function configuration:\n  ${problems.join('\n  ')}`);
  return {
    defaultModel: c.AI_DEFAULT_MODEL,
    allowedModels: c.AI_ALLOWED_MODELS,
    suggestModel,
    prices,
    cacheTtlSeconds: c.AI_CACHE_TTL_SECONDS,
    leaseMs: c.AI_CACHE_LEASE_MS,
    storeWaitMs: c.AI_CACHE_STORE_WAIT_MS,
    storePrompts: c.AI_CACHE_STORE_PROMPTS,
    chatMaxBodyBytes: c.AI_CHAT_MAX_BODY_BYTES,
    chatMaxMessageChars: c.AI_CHAT_MAX_MESSAGE_CHARS,
    chatHistoryLimit: c.AI_CHAT_HISTORY_LIMIT,
    suggestTtlSeconds: c.AI_SUGGEST_TTL_SECONDS,
    trustedProxyHops: c.AI_SUGGEST_TRUSTED_PROXY_HOPS,
    openaiTimeoutMs: c.OPENAI_TIMEOUT_MS,
    openaiMaxRetries: c.OPENAI_MAX_RETRIES,
    modelDeadlineMs: c.AI_MODEL_DEADLINE_MS,
    dbTimeoutMs: c.AI_DB_TIMEOUT_MS,
    gatewayModels: c.AI_GATEWAY_MODELS,
    gatewayTtlSeconds: c.AI_GATEWAY_TTL_SECONDS ?? c.AI_CACHE_TTL_SECONDS,
    gatewayMaxBodyBytes: c.AI_GATEWAY_MAX_BODY_BYTES,
    gatewayMaxEmbeddingItems: c.AI_GATEWAY_MAX_EMBEDDING_ITEMS,
  };
}

let loaded: FunctionConfig | undefined;

/** The validated configuration; the first call (at boot, from each index.ts) throws on a bad one. */
export function config(): FunctionConfig {
  return (loaded ??= parseConfig(Object.fromEntries(Object.keys(Schema.shape).map((k) => [k, env(k)]))));
}
