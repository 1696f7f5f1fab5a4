import {
  ApproveBody,
  CancelBody,
  ControlAnswer,
  ControlBody,
  CreateJobBody,
  DecideBody,
  EventsQuery,
  JobCreated,
  JobDetail,
  JobList,
  JobListQuery,
  RejectBody,
  ResultsQuery,
  RetryBody,
  RetryCreated,
} from './jobs.js';
import { PlanAnswer, PlanRequestBody, ToolList } from './plans.js';
import { StepResultPage } from './results.js';
import type { ErrorType } from '../errors.js';
import type { ApiRoute } from './route.js';

/** What a control (approve, reject, pause, resume, cancel, decide) may answer beyond its kind. */
const CONTROL_ERRORS: ErrorType[] = ['Conflict', 'Unavailable'];

/** Planning and jobs: from a request in words to a job and its control. */
export const JOB_ROUTES: readonly ApiRoute[] = [
  {
    method: 'POST',
    path: '/api/plans',
    role: 'operator',
    summary: 'Plans a request in words (or validates an edited plan) and explains it; nothing runs.',
    body: PlanRequestBody,
    answers: { 200: PlanAnswer },
    errors: ['PlanInvalid'],
  },
  { method: 'GET', path: '/api/tools', role: 'viewer', summary: 'The tool catalog.', answers: { 200: ToolList } },

  {
    method: 'POST',
    path: '/api/jobs',
    role: 'operator',
    summary: 'Starts a job from a request in words, an edited plan draft or an executable plan.',
    body: CreateJobBody,
    answers: { 201: JobCreated },
    errors: ['PlanInvalid', 'Conflict', 'Unavailable'],
  },
  {
    method: 'GET',
    path: '/api/jobs',
    role: 'viewer',
    summary: "The tenant's jobs, newest first, filtered.",
    query: JobListQuery,
    answers: { 200: JobList },
  },
  {
    method: 'GET',
    path: '/api/jobs/:id',
    role: 'viewer',
    summary: 'A job: its record, plan and live progress.',
    answers: { 200: JobDetail },
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/retry',
    role: 'operator',
    summary:
      'Retries a failed or cancelled job: a linked job over only the targets that did not get through, each from the step where it stopped.',
    body: RetryBody,
    answers: { 201: RetryCreated },
    errors: ['Conflict', 'PlanInvalid', 'Unavailable'],
  },
  {
    method: 'GET',
    path: '/api/jobs/:id/results',
    role: 'viewer',
    summary: 'The per-target step results with their full output, a page at a time.',
    query: ResultsQuery,
    answers: { 200: StepResultPage },
  },
  {
    method: 'GET',
    path: '/api/jobs/:id/events',
    role: 'viewer',
    summary: "The job's output lines and progress as Server-Sent Events.",
    query: EventsQuery,
    answers: { 200: 'events' },
    errors: ['RateLimited'],
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/approve',
    role: 'approver',
    summary: 'Approves a job waiting for approval, bound to its plan hash.',
    body: ApproveBody,
    answers: { 200: ControlAnswer },
    errors: CONTROL_ERRORS,
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/reject',
    role: 'operator',
    summary: 'Rejects a job waiting for approval.',
    body: RejectBody,
    answers: { 200: ControlAnswer },
    errors: CONTROL_ERRORS,
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/pause',
    role: 'operator',
    summary: 'Pauses a running job before its next wave.',
    body: ControlBody,
    answers: { 200: ControlAnswer },
    errors: CONTROL_ERRORS,
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/resume',
    role: 'operator',
    summary: 'Resumes a paused job.',
    body: ControlBody,
    answers: { 200: ControlAnswer },
    errors: CONTROL_ERRORS,
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/cancel',
    role: 'operator',
    summary: 'Cancels a job: after the running wave (`finish`) or at once (`interrupt`).',
    body: CancelBody,
    answers: { 200: ControlAnswer },
    errors: CONTROL_ERRORS,
  },
  {
    method: 'POST',
    path: '/api/jobs/:id/decide',
    role: 'operator',
    summary: 'Answers a mid-run question: continue, or roll back.',
    body: DecideBody,
    answers: { 200: ControlAnswer },
    errors: CONTROL_ERRORS,
  },
];
