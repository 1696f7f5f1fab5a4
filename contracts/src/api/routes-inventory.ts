import { AuditPage, AuditQuery } from './identity.js';
import { CredentialInput } from '../credentials.js';
import { GroupInput, TargetInput, TargetSelector } from '../inventory.js';
import { CredentialAnswer, CredentialList } from './credentials.js';
import { GroupAnswer, GroupList, HostKeyAnswer, ImportAnswer, ImportBody, ResolveAnswer, TargetAnswer, TargetList } from './inventory.js';
import type { ApiRoute } from './route.js';

/** Targets, groups, credentials and the audit trail. */
export const INVENTORY_ROUTES: readonly ApiRoute[] = [
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
