import type { z } from 'zod';
import { CredentialInput } from '../credentials.js';
import { EgressAllowList } from '../egress.js';
import type { ErrorType } from '../errors.js';
import { GroupInput, TargetInput, TargetSelector } from '../inventory.js';
import type { Role } from './common.js';
import { CredentialAnswer, CredentialList } from './credentials.js';
import { AuditPage, AuditQuery, LoginAnswer, LoginBody, MeAnswer, NewTokenBody, NewUserBody, TenantSettings, TokenIssued, TokenList, UserAnswer, UserChangeBody, UserCreated, UserList } from './identity.js';
import { GroupAnswer, GroupList, HostKeyAnswer, ImportAnswer, ImportBody, ResolveAnswer, TargetAnswer, TargetList } from './inventory.js';
import { ApproveBody, CancelBody, ControlAnswer, ControlBody, CreateJobBody, DecideBody, EventsQuery, JobCreated, JobDetail, JobList, JobListQuery, RejectBody, ResultsQuery } from './jobs.js';
import { EgressAllowListView, Health } from './platform.js';
import { PlanAnswer, PlanRequestBody, ToolList } from './plans.js';
import { StepResultPage } from './results.js';
import { OpenApiDocument } from './openapi-document.js';

/** An answer's body: a schema, `null` for none (204), or `events` for the job's Server-Sent Events. */
export type AnswerBody = z.ZodType | null | 'events';

/**
 * One route of the HTTP API. The orchestrator registers exactly these (a test reads its router),
 * and the OpenAPI document and the Markdown reference are generated from them.
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Express form: `/api/jobs/:id`. */
  path: string;
  /** Who may call it: `public` needs no sign-in; a role means that role or one above it. */
  role: 'public' | Role;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Successful answers by HTTP status. */
  answers: Record<number, AnswerBody>;
  /** Errors this route answers beyond those every route of its kind may (see `errorsOf`). */
  errors?: ErrorType[];
}

const CONTROL_ERRORS: ErrorType[] = ['Conflict', 'Unavailable'];

export const API_ROUTES: readonly ApiRoute[] = [
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

  { method: 'POST', path: '/api/plans', role: 'operator', summary: 'Plans a request in words (or validates an edited plan) and explains it; nothing runs.', body: PlanRequestBody, answers: { 200: PlanAnswer }, errors: ['PlanInvalid'] },
  { method: 'GET', path: '/api/tools', role: 'viewer', summary: 'The tool catalog.', answers: { 200: ToolList } },

  { method: 'POST', path: '/api/jobs', role: 'operator', summary: 'Starts a job from a request in words, an edited plan draft or an executable plan.', body: CreateJobBody, answers: { 201: JobCreated }, errors: ['PlanInvalid', 'Conflict', 'Unavailable'] },
  { method: 'GET', path: '/api/jobs', role: 'viewer', summary: "The tenant's jobs, newest first, filtered.", query: JobListQuery, answers: { 200: JobList } },
  { method: 'GET', path: '/api/jobs/:id', role: 'viewer', summary: 'A job: its record, plan and live progress.', answers: { 200: JobDetail } },
  { method: 'GET', path: '/api/jobs/:id/results', role: 'viewer', summary: 'The per-target step results with their full output, a page at a time.', query: ResultsQuery, answers: { 200: StepResultPage } },
  { method: 'GET', path: '/api/jobs/:id/events', role: 'viewer', summary: "The job's output lines and progress as Server-Sent Events.", query: EventsQuery, answers: { 200: 'events' }, errors: ['RateLimited'] },
  { method: 'POST', path: '/api/jobs/:id/approve', role: 'approver', summary: 'Approves a job waiting for approval, bound to its plan hash.', body: ApproveBody, answers: { 200: ControlAnswer }, errors: CONTROL_ERRORS },
  { method: 'POST', path: '/api/jobs/:id/reject', role: 'operator', summary: 'Rejects a job waiting for approval.', body: RejectBody, answers: { 200: ControlAnswer }, errors: CONTROL_ERRORS },
  { method: 'POST', path: '/api/jobs/:id/pause', role: 'operator', summary: 'Pauses a running job before its next wave.', body: ControlBody, answers: { 200: ControlAnswer }, errors: CONTROL_ERRORS },
  { method: 'POST', path: '/api/jobs/:id/resume', role: 'operator', summary: 'Resumes a paused job.', body: ControlBody, answers: { 200: ControlAnswer }, errors: CONTROL_ERRORS },
  { method: 'POST', path: '/api/jobs/:id/cancel', role: 'operator', summary: 'Cancels a job: after the running wave (`finish`) or at once (`interrupt`).', body: CancelBody, answers: { 200: ControlAnswer }, errors: CONTROL_ERRORS },
  { method: 'POST', path: '/api/jobs/:id/decide', role: 'operator', summary: 'Answers a mid-run question: continue, or roll back.', body: DecideBody, answers: { 200: ControlAnswer }, errors: CONTROL_ERRORS },

  { method: 'GET', path: '/api/inventory/targets', role: 'viewer', summary: "The tenant's targets.", answers: { 200: TargetList } },
  { method: 'POST', path: '/api/inventory/targets', role: 'admin', summary: 'Creates a target.', body: TargetInput, answers: { 201: TargetAnswer }, errors: ['Conflict'] },
  { method: 'PUT', path: '/api/inventory/targets/:name', role: 'admin', summary: 'Creates or replaces a target.', body: TargetInput, answers: { 200: TargetAnswer, 201: TargetAnswer } },
  { method: 'DELETE', path: '/api/inventory/targets/:name', role: 'admin', summary: 'Deletes a target.', answers: { 204: null }, errors: ['Conflict'] },
  { method: 'GET', path: '/api/inventory/targets/:name/host-key', role: 'viewer', summary: 'The SSH host key pinned for a target.', answers: { 200: HostKeyAnswer } },
  { method: 'DELETE', path: '/api/inventory/targets/:name/host-key', role: 'admin', summary: 'Forgets the pinned host key (after a legitimate re-key).', answers: { 204: null } },
  { method: 'GET', path: '/api/inventory/groups', role: 'viewer', summary: "The tenant's target groups.", answers: { 200: GroupList } },
  { method: 'POST', path: '/api/inventory/groups', role: 'admin', summary: 'Creates a group.', body: GroupInput, answers: { 201: GroupAnswer }, errors: ['Conflict'] },
  { method: 'PUT', path: '/api/inventory/groups/:name', role: 'admin', summary: 'Creates or replaces a group.', body: GroupInput, answers: { 200: GroupAnswer, 201: GroupAnswer } },
  { method: 'DELETE', path: '/api/inventory/groups/:name', role: 'admin', summary: 'Deletes a group.', answers: { 204: null }, errors: ['Conflict'] },
  { method: 'POST', path: '/api/inventory/import', role: 'admin', summary: 'Imports an Ansible inventory (INI or YAML); a dry run unless `dryRun: false`.', body: ImportBody, answers: { 200: ImportAnswer } },
  { method: 'POST', path: '/api/inventory/resolve', role: 'viewer', summary: 'The targets a selector names.', body: TargetSelector, answers: { 200: ResolveAnswer } },

  { method: 'GET', path: '/api/credentials', role: 'viewer', summary: "The tenant's credentials: metadata and fingerprints, never secrets.", answers: { 200: CredentialList } },
  { method: 'POST', path: '/api/credentials', role: 'admin', summary: 'Creates a credential; the secret is sealed for the vault on arrival.', body: CredentialInput, answers: { 201: CredentialAnswer }, errors: ['Conflict', 'Unavailable'] },
  { method: 'PUT', path: '/api/credentials/:name', role: 'admin', summary: 'Creates or replaces a credential.', body: CredentialInput, answers: { 200: CredentialAnswer, 201: CredentialAnswer }, errors: ['Unavailable'] },
  { method: 'DELETE', path: '/api/credentials/:name', role: 'admin', summary: 'Deletes a credential no target uses.', answers: { 204: null }, errors: ['Conflict'] },

  { method: 'GET', path: '/api/audit', role: 'admin', summary: "The tenant's audit trail, newest first, filtered.", query: AuditQuery, answers: { 200: AuditPage } },
];

/**
 * The errors a route may answer: its own, plus those of its kind: 400 for a body, query or path
 * that does not validate (every route refuses NUL in its path or query), 415 for a body that is not
 * JSON, 401 unless public, 403 when it needs more than viewer, 404 for a path
 * naming something, 503 while the orchestrator starts (all but health and this document).
 */
export const errorsOf = (route: ApiRoute): ErrorType[] => {
  const always = route.path === '/api/health' || route.path === '/api/openapi.json';
  const types: ErrorType[] = [
    'ValidationFailed',
    ...(route.body ? (['UnsupportedMediaType'] as const) : []),
    ...(route.role === 'public' ? [] : (['AuthFailed'] as const)),
    ...(route.role === 'public' || route.role === 'viewer' ? [] : (['Forbidden'] as const)),
    ...(route.path.includes('/:') ? (['NotFound'] as const) : []),
    ...(route.errors ?? []),
    ...(always ? [] : (['Unavailable'] as const)),
  ];
  return [...new Set(types)];
};
