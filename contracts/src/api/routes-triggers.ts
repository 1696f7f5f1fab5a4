import type { ApiRoute } from './route.js';
import {
  CreateTriggerBody,
  HookAnswer,
  HookPayload,
  TriggerDeliveries,
  TriggerList,
  TriggerView,
  TriggerWithSecret,
  UpdateTriggerBody,
} from './triggers.js';

/** Triggers (inbound webhooks bound to a template) and their deliveries. See docs/triggers.md. */
export const TRIGGER_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/api/triggers',
    role: 'operator',
    summary: "The tenant's triggers (never their secrets).",
    answers: { 200: TriggerList },
  },
  {
    method: 'POST',
    path: '/api/triggers',
    role: 'admin',
    summary: 'Creates a trigger bound to a template; its secret, made by the server, is in this answer only.',
    body: CreateTriggerBody,
    answers: { 201: TriggerWithSecret },
    errors: ['Conflict', 'Unavailable'],
  },
  {
    method: 'GET',
    path: '/api/triggers/:id',
    role: 'operator',
    summary: 'A trigger.',
    answers: { 200: TriggerView },
  },
  {
    method: 'PATCH',
    path: '/api/triggers/:id',
    role: 'admin',
    summary: 'Changes a trigger (template version, owner, mapping, dedupe window, enabled).',
    body: UpdateTriggerBody,
    answers: { 200: TriggerView },
    errors: ['Conflict'],
  },
  {
    method: 'DELETE',
    path: '/api/triggers/:id',
    role: 'admin',
    summary: 'Deletes a trigger: its deliveries are refused from then on.',
    answers: { 204: null },
  },
  {
    method: 'POST',
    path: '/api/triggers/:id/rotate-secret',
    role: 'admin',
    summary: 'Makes a new secret for a trigger (the old one stops working); the secret is in this answer only.',
    answers: { 200: TriggerWithSecret },
    errors: ['Unavailable'],
  },
  {
    method: 'GET',
    path: '/api/triggers/:id/deliveries',
    role: 'operator',
    summary: "A trigger's recent deliveries: accepted (with the job), duplicate, ignored, refused (with the reason).",
    answers: { 200: TriggerDeliveries },
  },
  {
    method: 'POST',
    path: '/api/hooks/:id',
    role: 'public',
    summary:
      'A delivery to a trigger: signed (generic: X-OpsC-Timestamp, X-OpsC-Signature) or with the bearer credentials (alertmanager). Unknown trigger and bad authentication are the same 401.',
    body: HookPayload,
    answers: { 200: HookAnswer, 202: HookAnswer },
    errors: ['AuthFailed', 'Forbidden', 'NotFound', 'PlanInvalid', 'RateLimited', 'Unavailable'],
  },
];
