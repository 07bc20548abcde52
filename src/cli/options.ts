// Parsing and checking of option values; every failure is a usage error (exit 2).
import { InvalidArgumentError } from 'commander';
import type { CacheFilter } from './api.ts';
import { usageError } from './errors.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * An age: `30d`, `12h`, `90m`, `45s`, `2w`, combinations like `1d12h`, or a bare number of
 * days (`30`, as manage_cache.py --clean-old 30). Returns seconds.
 */
export function parseDuration(raw: string): number {
  const text = raw.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 86400);
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(text)) {
    throw new InvalidArgumentError(
      `"${raw}" is not an age: use e.g. 30d, 12h, 90m, 45s, 2w or 1d12h (a bare number means days)`,
    );
  }
  let seconds = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) seconds += Number(m[1]) * UNIT_SECONDS[m[2]];
  return Math.round(seconds);
}

export function intInRange(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError(`"${raw}" is not a whole number`);
    const n = Number(raw);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseCompanyId(raw: string): string {
  if (!UUID.test(raw.trim())) throw new InvalidArgumentError(`"${raw}" is not a company id (a uuid)`);
  return raw.trim().toLowerCase();
}

export function parseCacheType(raw: string): string {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(raw)) {
    throw new InvalidArgumentError(
      `"${raw}" is not a cache type (lower-case letters, digits and _, e.g. chat, suggestions)`,
    );
  }
  return raw;
}

export function parseNonEmpty(what: string) {
  return (raw: string): string => {
    if (!raw.trim()) throw new InvalidArgumentError(`${what} must not be empty`);
    return raw.trim();
  };
}

/** The scope options shared by top / clean / clear / purge. */
export interface ScopeOptions {
  company?: string;
  global?: boolean;
  type?: string;
}

export function scopeFilter(o: ScopeOptions): CacheFilter {
  if (o.company && o.global) throw usageError('--company and --global exclude each other');
  return { companyId: o.company, globalOnly: o.global || undefined, cacheType: o.type };
}

/** "company 0f…, type chat, expired": what a filter selects, for messages and prompts. */
export function describeFilter(f: CacheFilter): string {
  const parts: string[] = [];
  parts.push(
    f.companyId ? `company ${f.companyId}` : f.globalOnly ? 'global scope' : 'all companies and the global scope',
  );
  if (f.cacheType) parts.push(`type ${f.cacheType}`);
  if (f.model) parts.push(`model ${f.model}`);
  if (f.keyVersion !== undefined) parts.push(`key version ${f.keyVersion}`);
  if (f.olderThanSeconds !== undefined) parts.push(`created more than ${humanSeconds(f.olderThanSeconds)} ago`);
  if (f.expiredOnly) parts.push('expired');
  return parts.join(', ');
}

function humanSeconds(s: number): string {
  for (const [unit, n] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (s >= n && s % n === 0) return `${s / n}${unit}`;
  }
  return `${s}s`;
}

/** The filter as printed in --json output (snake_case, only what was given). */
export function filterJson(f: CacheFilter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.companyId) out.company_id = f.companyId;
  if (f.globalOnly) out.global_only = true;
  if (f.cacheType) out.cache_type = f.cacheType;
  if (f.model) out.model = f.model;
  if (f.keyVersion !== undefined) out.key_version = f.keyVersion;
  if (f.olderThanSeconds !== undefined) out.older_than_seconds = f.olderThanSeconds;
  if (f.expiredOnly) out.expired_only = true;
  return out;
}
