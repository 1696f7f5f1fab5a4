export { ROLES, atLeast, type Principal, type Role } from './roles.js';
export { createUser, ensureTenant } from './users.js';
export { DEFAULT_TOKEN_DAYS, issueApiToken, issueToken } from './tokens.js';
