// Per-request state shared by table and RPC handling: who is calling, which schema, the
// preferences, the transaction-local settings PostgREST sets, the body, and turning the main
// statement's row into the HTTP answer (Content-Range, range status, GUC-set headers/status).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidBody, RestError, singularityError } from './errors.ts';
import { readBody, send } from './http-io.ts';
import type { AuthResult } from './jwt.ts';
import type { MediaChoice, Preferences, QueryParams } from './query-params.ts';
import type { Row } from './db.ts';
import type { SchemaCache } from './schema-cache.ts';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  head: boolean;
  path: string;
  schema: string;
  auth: AuthResult;
  /** The anonymous role gets 401 instead of 403 on permission errors. */
  authed: boolean;
  prefs: Preferences;
  media: MediaChoice;
  params: QueryParams;
  cache: SchemaCache;
  maxRows?: number;
  extraSearchPath: string[];
  /** On a cache miss: reloads when the catalog changed since, updating `cache`; tells whether it did. */
  refresh(kind: 'relation' | 'routine', name: string): Promise<boolean>;
}

/** The transaction-local settings of PostgREST's txVarQuery, in its order. */
export function requestSettings(ctx: RequestContext): [string, string][] {
  const searchPath = [ctx.schema, ...ctx.extraSearchPath.filter((s) => s !== ctx.schema)]
    .map((s) => '"' + s.replace(/"/g, '""') + '"').join(', ');
  const out: [string, string][] = [['search_path', searchPath]];
  const roleSettings = ctx.cache.roleSettings.get(ctx.auth.role);
  if (roleSettings) out.push(...roleSettings);
  out.push(['role', ctx.auth.role]);
  out.push(['request.jwt.claims', JSON.stringify({ ...ctx.auth.claims, role: ctx.auth.role })]);
  out.push(['request.method', ctx.method]);
  out.push(['request.path', ctx.path]);
  out.push(['request.headers', JSON.stringify(headersObject(ctx.req))]);
  out.push(['request.cookies', JSON.stringify(cookiesObject(ctx.req.headers.cookie))]);
  if (ctx.prefs.timezone) out.push(['timezone', ctx.prefs.timezone]);
  return out;
}

function headersObject(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && k !== 'cookie') out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function cookiesObject(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export type Payload = { kind: 'json'; value: unknown; raw: string } | { kind: 'empty' };

/** JSON (the default) or an HTML form; other request media types are refused. */
export async function readPayload(req: IncomingMessage): Promise<Payload> {
  const raw = await readBody(req);
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const value: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(raw)) value[k] = v;
    return { kind: 'json', value, raw: JSON.stringify(value) };
  }
  if (type !== 'application/json' && type !== '' && !type.endsWith('+json')) {
    throw new RestError(415, 'PGRST107', `None of these media types are available: ${type}`);
  }
  if (raw.trim() === '') return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(raw), raw };
  } catch {
    throw invalidBody();
  }
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------- ranges ----------

export interface Range {
  offset: number;
  limit?: number;
}

/** Intersects the Range header (GET only) with limit/offset and caps at max-rows, as PostgREST. */
export function effectiveRange(ctx: RequestContext, header: { from: number; to?: number } | null): Range {
  let lo = 0;
  let hi = Infinity;
  if (header && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
    lo = header.from;
    hi = header.to ?? Infinity;
  }
  const { offset, limit } = ctx.params;
  if (offset !== undefined || limit !== undefined) {
    const lo2 = offset ?? 0;
    const hi2 = limit !== undefined ? lo2 + limit - 1 : Infinity;
    lo = Math.max(lo, lo2);
    hi = Math.min(hi, hi2);
  }
  let count = hi === Infinity ? undefined : Math.max(0, hi - lo + 1);
  if (ctx.maxRows !== undefined) count = count === undefined ? ctx.maxRows : Math.min(count, ctx.maxRows);
  return { offset: lo, limit: count };
}

export function contentRange(lower: number, upper: number, total: number | null): string {
  const range = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  return `${range}/${total === null ? '*' : total}`;
}

// ---------- finishing ----------

export interface Finish {
  status: number;
  row: Row;
  body: string | null;
  contentRange?: string;
  extraHeaders?: Record<string, string>;
}

/** Applies `response.headers` / `response.status` set by SQL, then writes the answer. */
export function finish(ctx: RequestContext, f: Finish): void {
  const headers: Record<string, string> = {};
  if (f.body !== null) headers['Content-Type'] = ctx.media.contentType;
  if (f.contentRange) headers['Content-Range'] = f.contentRange;
  if (ctx.prefs.applied.length) headers['Preference-Applied'] = ctx.prefs.applied.join(', ');
  Object.assign(headers, f.extraHeaders);
  let status = f.status;
  const gucHeaders = f.row.response_headers;
  if (gucHeaders) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(gucHeaders);
    } catch {
      parsed = null;
    }
    if (
      !Array.isArray(parsed) ||
      !parsed.every((h) => isPlainObject(h) && Object.keys(h).length === 1 && typeof Object.values(h)[0] === 'string')
    ) {
      throw new RestError(
        500,
        'PGRST111',
        'response.headers guc must be a JSON array composed of objects with a single key and a string value',
      );
    }
    for (const h of parsed as Record<string, string>[]) Object.assign(headers, h);
  }
  const gucStatus = f.row.response_status;
  if (gucStatus) {
    const n = Number(gucStatus);
    if (!Number.isInteger(n) || n < 100 || n > 599) {
      throw new RestError(500, 'PGRST112', 'response.status guc must be a valid status code');
    }
    status = n;
  }
  send(ctx.res, status, headers, f.body ?? '', ctx.head);
}

/** Status and Content-Range of a read (GET, RPC) from its offset, row count and total. */
export function readOutcome(
  range: Range,
  pageTotal: number,
  total: number | null,
): { status: number; contentRange: string } {
  const lower = range.offset;
  const upper = lower + pageTotal - 1;
  const cr = contentRange(lower, upper, total);
  if (total === null) return { status: 200, contentRange: cr };
  if (lower > total) {
    throw new RestError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      `An offset of ${lower} was requested, but there are only ${total} rows.`,
      null,
      { 'Content-Range': `*/${total}` },
    );
  }
  return { status: 1 + upper - lower < total ? 206 : 200, contentRange: cr };
}

export function singularCheck(ctx: RequestContext, pageTotal: number): RestError | null {
  return ctx.media.kind === 'object' && pageTotal !== 1 ? singularityError(pageTotal) : null;
}

export const num = (
  v: string | null | undefined,
): number | null => (v === null || v === undefined || v === '' ? null : Number(v));
