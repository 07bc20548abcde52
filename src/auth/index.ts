export { createAuthHandler, type AuthHandler, type AuthHandlerOptions } from './handler.ts';
export { createUser, findUserByEmail, setPassword, normalizeEmail } from './users.ts';
