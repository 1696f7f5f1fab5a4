import type { ApiRoute } from './route.js';
import {
  CreateTemplateBody,
  NewTemplateVersionBody,
  PreApproveTemplateBody,
  RunTemplateBody,
  TemplateDetail,
  TemplateList,
  TemplateRun,
} from './templates.js';

/** Saved plans: create, list, read, new version, delete, pre-approve, run. See docs/templates.md. */
export const TEMPLATE_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/api/templates',
    role: 'viewer',
    summary: "The tenant's templates.",
    answers: { 200: TemplateList },
  },
  {
    method: 'POST',
    path: '/api/templates',
    role: 'operator',
    summary: 'Saves a validated plan draft as a template, with the step parameters chosen as its parameters.',
    body: CreateTemplateBody,
    answers: { 201: TemplateDetail },
    errors: ['Conflict', 'PlanInvalid'],
  },
  {
    method: 'GET',
    path: '/api/templates/:id',
    role: 'viewer',
    summary: 'A template with its versions and their pre-approvals.',
    answers: { 200: TemplateDetail },
  },
  {
    method: 'POST',
    path: '/api/templates/:id/versions',
    role: 'operator',
    summary: "Saves a new version of a template (any edit); voids the template's pre-approval.",
    body: NewTemplateVersionBody,
    answers: { 201: TemplateDetail },
    errors: ['PlanInvalid'],
  },
  {
    method: 'DELETE',
    path: '/api/templates/:id',
    role: 'operator',
    summary: 'Deletes a template (its jobs keep naming it); voids its pre-approval.',
    answers: { 204: null },
  },
  {
    method: 'POST',
    path: '/api/templates/:id/pre-approve',
    role: 'approver',
    summary: "Approves every run of a template's latest version in advance, bound to its shape hash.",
    body: PreApproveTemplateBody,
    answers: { 200: TemplateDetail },
    errors: ['Conflict'],
  },
  {
    method: 'POST',
    path: '/api/templates/:id/run',
    role: 'operator',
    summary: 'Runs a template with the given parameters: validated like any plan; the job it created.',
    body: RunTemplateBody,
    answers: { 201: TemplateRun },
    errors: ['PlanInvalid', 'Unavailable'],
  },
];
