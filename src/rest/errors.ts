// PostgREST's error contract: every failure is `{code, details, hint, message}` (keys in that
// order, absent fields as null) with an HTTP status derived from the code. supabase-js surfaces
// this object verbatim as `error`, so apps branch on these exact codes.
import postgres from 'postgres';

/** `details` is text, except PGRST201 which lists the candidate relationships as JSON. */
export type ErrorBody = { code: string; details: string | null | unknown[]; hint: string | null; message: string };

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null | unknown[] = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { code: this.code, details: this.details, hint: this.hint, message: this.message };
  }
}

/** Kong (not PostgREST) answers API-key problems, with its own `{message}` body. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export const queryParamError = (message: string, details: string) => new RestError(400, 'PGRST100', message, details);

/** What this implementation deliberately leaves out: a clear 400 instead of a silently different answer. */
export const notSupported = (what: string) =>
  new RestError(
    400,
    'PGRST127',
    'Feature not implemented',
    `${what} is not supported by this local PostgREST implementation`,
  );

export const invalidBody = (message = 'Empty or invalid json') => new RestError(400, 'PGRST102', message);

export const singularityError = (rows: number) =>
  new RestError(
    406,
    'PGRST116',
    'JSON object requested, multiple (or no) rows returned',
    `The result contains ${rows} rows`,
  );

const jwtHeader = (message: string) => ({
  'WWW-Authenticate': `Bearer error="invalid_token", error_description="${message}"`,
});
export const jwtDecodeError = (message: string, details: string | null = null) =>
  new RestError(401, 'PGRST301', message, details, null, jwtHeader(message));
export const jwtClaimsError = (message: string) =>
  new RestError(401, 'PGRST303', message, null, null, jwtHeader(message));

type PgLikeError = { code?: string; message: string; detail?: string; hint?: string; routine?: string };

/** SQLSTATE → HTTP status, as PostgREST's `mapSQLtoHTTP`. `authed` is false for the anonymous role. */
export function pgStatus(code: string, message: string, authed: boolean): number {
  const c2 = code.slice(0, 2);
  switch (code) {
    case '23503':
    case '23505':
      return 409;
    case '25006':
      return 405;
    case '21000':
      return message.endsWith('requires a WHERE clause') ? 400 : 500;
    case '22023':
      return message.startsWith('role') && message.endsWith('does not exist') ? 401 : 400;
    case '53400':
      return 500;
    case '57P01':
      return 503;
    case 'P0001':
      return 400;
    case '42883':
      return message.startsWith('function xmlagg(') ? 406 : 404;
    case '42P01':
      return 404;
    case '42P17':
      return 500;
    case '42501':
      return authed ? 403 : 401;
  }
  switch (c2) {
    case '08':
      return 503;
    case '09':
      return 500;
    case '0L':
      return 403;
    case '0P':
      return 403;
    case '25':
      return 500;
    case '28':
      return 403;
    case '2D':
      return 500;
    case '38':
      return 500;
    case '39':
      return 500;
    case '3B':
      return 500;
    case '40':
      return 500;
    case '53':
      return 503;
    case '54':
      return 500;
    case '55':
      return 500;
    case '57':
      return 500;
    case '58':
      return 500;
    case 'F0':
      return 500;
    case 'HV':
      return 500;
    case 'P0':
      return 500;
    case 'XX':
      return 500;
  }
  if (c2 === 'PT') {
    const n = Number(code.slice(2));
    return Number.isInteger(n) && n >= 100 && n <= 599 ? n : 500;
  }
  return 400;
}

/** Converts anything thrown while talking to Postgres into PostgREST's answer. */
export function fromDbError(err: unknown, authed: boolean): RestError {
  if (err instanceof RestError) return err;
  const e = err as PgLikeError;
  if (err instanceof postgres.PostgresError) {
    if (err.code === 'PGRST') return fromRaisePgrst(e);
    const status = pgStatus(err.code, e.message, authed);
    const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
    return new RestError(status, err.code, e.message, e.detail ?? null, e.hint ?? null, headers);
  }
  // Driver-level failures (refused, closed, timed out connecting): the database is unreachable.
  const code = (e && e.code) || '';
  if (/^(CONNECTION_|ECONN|ETIMEDOUT|EPIPE|CONNECT_TIMEOUT)/.test(code)) {
    return new RestError(503, 'PGRST000', 'Database connection error. Retrying the connection.', e.message ?? null);
  }
  return new RestError(500, 'PGRSTX00', 'Internal server error', e?.message ?? String(err));
}

/** `RAISE SQLSTATE 'PGRST' USING message = '{json}', detail = '{json}'`: full control of the response. */
function fromRaisePgrst(e: PgLikeError): RestError {
  let msg: { code?: unknown; message?: unknown; details?: unknown; hint?: unknown };
  try {
    msg = JSON.parse(e.message);
    if (!msg || typeof msg !== 'object' || typeof msg.code !== 'string' || typeof msg.message !== 'string') {
      throw new Error();
    }
  } catch {
    return new RestError(
      500,
      'PGRST121',
      'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      `Invalid JSON value for MESSAGE: '${e.message}'`,
      "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.",
    );
  }
  let det: { status?: unknown; headers?: unknown };
  try {
    if (e.detail === undefined) throw new Error('missing');
    det = JSON.parse(e.detail);
    if (!det || typeof det !== 'object' || typeof det.status !== 'number') throw new Error();
  } catch (x) {
    return new RestError(
      500,
      'PGRST121',
      'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      (x as Error).message === 'missing'
        ? 'DETAIL is missing in the RAISE statement'
        : `Invalid JSON value for DETAIL: '${e.detail}'`,
      "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.",
    );
  }
  const headers: Record<string, string> = {};
  if (det.headers && typeof det.headers === 'object') {
    for (const [k, v] of Object.entries(det.headers as Record<string, unknown>)) headers[k] = String(v);
  }
  const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
  return new RestError(
    det.status as number,
    msg.code as string,
    msg.message as string,
    str(msg.details),
    str(msg.hint),
    headers,
  );
}
