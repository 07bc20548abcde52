export { type AuthHandler, type AuthHandlerOptions, createAuthHandler } from './handler.ts';
export { createUser, findUserByEmail, normalizeEmail, setPassword } from './users.ts';
