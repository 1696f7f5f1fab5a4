export { ROLES, atLeast, type Principal, type Role } from './roles.js';
export { createUser, ensureTenant, issueApiToken } from './users.js';
