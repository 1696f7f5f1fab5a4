import { EgressAllowList } from '../egress.js';
import { LoginAnswer, LoginBody, MeAnswer, NewTokenBody, NewUserBody, TenantSettings, TokenIssued, TokenList, UserAnswer, UserChangeBody, UserCreated, UserList } from './identity.js';
import { EgressAllowListView, Health } from './platform.js';
import { OpenApiDocument } from './openapi-document.js';
import type { ApiRoute } from './route.js';

/** Health, this document, sign-in, tokens, users and the tenant's settings. */
export const ACCESS_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/api/health', role: 'public', summary: 'Whether the API and what it depends on (Temporal, PostgreSQL) are up; 503 while starting or degraded.', answers: { 200: Health, 503: Health } },
  { method: 'GET', path: '/api/openapi.json', role: 'public', summary: 'This API as an OpenAPI 3.1 document.', answers: { 200: OpenApiDocument } },

  { method: 'POST', path: '/api/auth/login', role: 'public', summary: 'Signs in with tenant, username and password; sets the session cookie.', body: LoginBody, answers: { 200: LoginAnswer }, errors: ['AuthFailed', 'RateLimited'] },
  { method: 'POST', path: '/api/auth/logout', role: 'public', summary: 'Ends the session of the cookie, if any.', answers: { 204: null } },
  { method: 'GET', path: '/api/auth/me', role: 'viewer', summary: 'Who is signed in.', answers: { 200: MeAnswer } },
  { method: 'GET', path: '/api/tokens', role: 'viewer', summary: "The caller's API tokens, revoked and expired ones included.", answers: { 200: TokenList } },
  { method: 'POST', path: '/api/tokens', role: 'viewer', summary: 'Issues an API token for the caller; the token is shown once.', body: NewTokenBody, answers: { 201: TokenIssued } },
  { method: 'DELETE', path: '/api/tokens/:id', role: 'viewer', summary: 'Revokes one of the caller\'s tokens.', answers: { 204: null } },
  { method: 'GET', path: '/api/users', role: 'admin', summary: "The tenant's users.", answers: { 200: UserList } },
  { method: 'POST', path: '/api/users', role: 'admin', summary: 'Creates a user of the tenant.', body: NewUserBody, answers: { 201: UserCreated }, errors: ['Conflict'] },
  { method: 'PATCH', path: '/api/users/:username', role: 'admin', summary: 'Changes a user\'s role, or disables or enables them.', body: UserChangeBody, answers: { 200: UserAnswer }, errors: ['Conflict'] },
  { method: 'DELETE', path: '/api/users/:username', role: 'admin', summary: 'Deletes a user (never the last admin).', answers: { 204: null }, errors: ['Conflict'] },
  { method: 'GET', path: '/api/users/:username/tokens', role: 'admin', summary: "A user's API tokens.", answers: { 200: TokenList } },
  { method: 'DELETE', path: '/api/users/:username/tokens/:id', role: 'admin', summary: "Revokes a user's token.", answers: { 204: null } },
  { method: 'GET', path: '/api/tenant/settings', role: 'viewer', summary: "The tenant's approval rules.", answers: { 200: TenantSettings } },
  { method: 'PUT', path: '/api/tenant/settings', role: 'admin', summary: "Replaces the tenant's approval rules.", body: TenantSettings, answers: { 200: TenantSettings } },
  { method: 'GET', path: '/api/tenant/egress', role: 'viewer', summary: "The tenant's egress allow list.", answers: { 200: EgressAllowListView } },
  { method: 'PUT', path: '/api/tenant/egress', role: 'admin', summary: "Replaces the tenant's egress allow list.", body: EgressAllowList, answers: { 200: EgressAllowListView } },
];
