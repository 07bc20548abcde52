// GoTrue's error bodies. Clients that send `X-Supabase-Api-Version: 2024-01-01` (supabase-js
// does) get `{ code: "<error_code>", message }` and the version echoed back; older clients get
// the legacy `{ code: <status>, error_code, msg }`. supabase-js reads either.

export const API_VERSION = '2024-01-01';

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function errorBody(e: AuthError, apiVersion: string | undefined): Record<string, unknown> {
  if (apiVersion && apiVersion >= API_VERSION) return { code: e.errorCode, message: e.message, ...e.extra };
  return { code: e.status, error_code: e.errorCode, msg: e.message, ...e.extra };
}

export const errors = {
  badJson: (detail: string) => new AuthError(400, 'bad_json', `Could not parse request body as JSON: ${detail}`),
  validation: (message: string) => new AuthError(400, 'validation_failed', message),
  emailInvalid: () => new AuthError(400, 'email_address_invalid', 'Unable to validate email address: invalid format'),
  weakPassword: (min: number) =>
    new AuthError(422, 'weak_password', `Password should be at least ${min} characters.`, {
      weak_password: { reasons: ['length'] },
    }),
  samePassword: () => new AuthError(422, 'same_password', 'New password should be different from the old password.'),
  userExists: () => new AuthError(422, 'user_already_exists', 'User already registered'),
  invalidCredentials: () => new AuthError(400, 'invalid_credentials', 'Invalid login credentials'),
  refreshNotFound: () =>
    new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found'),
  refreshAlreadyUsed: () => new AuthError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used'),
  grantType: () => new AuthError(400, 'unsupported_grant_type', 'unsupported_grant_type'),
  noAuthorization: () => new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token'),
  badJwt: (detail: string) =>
    new AuthError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${detail}`),
  userNotFound: () => new AuthError(403, 'user_not_found', 'User from sub claim in JWT does not exist'),
  sessionNotFound: () => new AuthError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist'),
  userBanned: () => new AuthError(400, 'user_banned', 'User is banned'),
  notFound: (path: string) => new AuthError(404, 'not_found', `no route for /auth/v1${path}`),
  methodNotAllowed: () => new AuthError(405, 'method_not_allowed', 'Method not allowed'),
  tooLarge: () => new AuthError(413, 'request_too_large', 'Request body too large'),
};
