// Text a caller sends is made storable once, at the edge of every function, before anything
// (the cache key, the database, the model) sees it: Postgres refuses U+0000 in text and jsonb
// (SQLSTATE 22021 / 22P05) and lone UTF-16 surrogates in jsonb (22P02/22P05), and the
// same text must always give the same key whether or not the database would have taken it.
import { z } from 'zod';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** U+0000 removed; each lone surrogate (half of an emoji cut in two) replaced by U+FFFD. */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD');
}

/** A zod string cleaned with storableText before any other check (length, trim) runs. */
export function userText() {
  return z.string().overwrite(storableText);
}

/** A parsed JSON value with every string (keys included) made storable: for bodies kept as sent. */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]));
  }
  return value;
}
