// deno-lint-ignore-file no-explicit-any -- tests read loosely typed JSON bodies
// Calling ai-suggest over HTTP the way a public quote form or an app does, and looking at
// what it left in the database.
import http from 'node:http';
import { adminSql, ANON_KEY, FUNCTIONS_URL, SERVICE_ROLE_KEY } from './stack.ts';

export interface SuggestCall {
  res: Response;
  status: number;
  xcache: string | null;
  age: string | null;
  retryAfter: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** POST /functions/v1/ai-suggest with a bearer token (the anon key by default). */
export async function suggestHttp(
  body: unknown,
  opts: { token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<SuggestCall> {
  const res = await fetch(`${FUNCTIONS_URL}/ai-suggest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.token ?? ANON_KEY}`, 'content-type': 'application/json', ...opts.headers },
    body: opts.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return {
    res,
    status: res.status,
    xcache: res.headers.get('x-cache'),
    age: res.headers.get('age'),
    retryAfter: res.headers.get('retry-after'),
    json,
  };
}

/** The service role is not rate limited: for tests that fire many requests at once. */
export const SERVICE_TOKEN = SERVICE_ROLE_KEY;

/** Suggestion entries whose canonical request mentions `marker` (in the given scope, or any). */
export async function suggestionEntries(marker: string, companyId?: string | null): Promise<number> {
  const like = `%${marker.toLowerCase()}%`;
  const rows = companyId === undefined
    ? await adminSql()`select count(*)::int as n from public.ai_cache where cache_type = 'suggestions' and request::text like ${like}`
    : companyId === null
    ? await adminSql()`select count(*)::int as n from public.ai_cache where cache_type = 'suggestions' and company_id is null and request::text like ${like}`
    : await adminSql()`select count(*)::int as n from public.ai_cache where cache_type = 'suggestions' and company_id = ${companyId} and request::text like ${like}`;
  return Number(rows[0].n);
}

/** The rate-limit bucket row, or undefined. */
export async function bucketRow(bucket: string) {
  const rows =
    await adminSql()`select bucket, tokens, updated_at from private.rate_limit_buckets where bucket = ${bucket}`;
  return rows[0] as { bucket: string; tokens: number; updated_at: Date } | undefined;
}

/** The shape of seed 000's answer, checked field by field. */
export function expectContract(json: unknown): string[] {
  const problems: string[] = [];
  const j = json as Record<string, unknown>;
  if (!j || typeof j !== 'object') return ['not an object'];
  const keys = Object.keys(j).sort().join(',');
  if (keys !== 'explication,from_cache,success,suggestions') problems.push(`top-level keys ${keys}`);
  if (j.success !== true) problems.push('success is not true');
  if (typeof j.from_cache !== 'boolean') problems.push('from_cache is not a boolean');
  if (typeof j.explication !== 'string' || !j.explication) problems.push('explication is not a non-empty string');
  const s = j.suggestions as Record<string, unknown>;
  if (!s || typeof s !== 'object') return [...problems, 'suggestions is not an object'];
  if (Object.keys(s).sort().join(',') !== 'budget,delai_souhaite,nombre_pages,type_projet') {
    problems.push(`suggestion keys ${Object.keys(s)}`);
  }
  if (typeof s.type_projet !== 'string' || !s.type_projet) problems.push('type_projet is not a non-empty string');
  if (!Number.isInteger(s.nombre_pages) || (s.nombre_pages as number) < 1) {
    problems.push('nombre_pages is not a positive integer');
  }
  if (typeof s.delai_souhaite !== 'string' || !s.delai_souhaite) {
    problems.push('delai_souhaite is not a non-empty string');
  }
  if (typeof s.budget !== 'string' || !s.budget) problems.push('budget is not a non-empty string');
  return problems;
}

/**
 * The same call from another local source address (127.x.y.z): the gateway appends the
 * socket's peer address to X-Forwarded-For, so this is a distinct anonymous client with its
 * own rate-limit bucket, without trusting anything the client says about itself.
 */
export function suggestFromAddress(
  localAddress: string,
  body: unknown,
  token = ANON_KEY,
): Promise<{ status: number; retryAfter: string | null; json: any }> {
  const url = new URL(`${FUNCTIONS_URL}/ai-suggest`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const retry = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: typeof retry === 'string' ? retry : null,
            json: text ? JSON.parse(text) : null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
