import type { ApiRoute } from './route.js';
import { CreateScheduleBody, PauseScheduleBody, ScheduleList, ScheduleView, UpdateScheduleBody } from './schedules.js';

/** Schedules (a template run on a Temporal Schedule). See docs/schedules.md. */
export const SCHEDULE_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/api/schedules',
    role: 'operator',
    summary: "The tenant's schedules, each with its next run times and latest actions.",
    answers: { 200: ScheduleList },
  },
  {
    method: 'POST',
    path: '/api/schedules',
    role: 'admin',
    summary:
      "Creates a schedule of a template: its parameters are checked like a run's, and its Temporal schedule is made.",
    body: CreateScheduleBody,
    answers: { 201: ScheduleView },
    errors: ['Conflict', 'PlanInvalid'],
  },
  {
    method: 'GET',
    path: '/api/schedules/:id',
    role: 'operator',
    summary: 'A schedule, its next run times and its latest actions with their jobs.',
    answers: { 200: ScheduleView },
  },
  {
    method: 'PATCH',
    path: '/api/schedules/:id',
    role: 'admin',
    summary: 'Changes a schedule (spec, time zone, overlap, catch-up window, parameters, owner, version).',
    body: UpdateScheduleBody,
    answers: { 200: ScheduleView },
    errors: ['Conflict', 'PlanInvalid'],
  },
  {
    method: 'DELETE',
    path: '/api/schedules/:id',
    role: 'admin',
    summary: 'Deletes a schedule and its Temporal schedule; the jobs it started stay.',
    answers: { 204: null },
  },
  {
    method: 'POST',
    path: '/api/schedules/:id/pause',
    role: 'admin',
    summary: 'Pauses a schedule: no action is taken until it is resumed.',
    body: PauseScheduleBody,
    answers: { 200: ScheduleView },
  },
  {
    method: 'POST',
    path: '/api/schedules/:id/resume',
    role: 'admin',
    summary: 'Resumes a paused schedule.',
    body: PauseScheduleBody,
    answers: { 200: ScheduleView },
  },
  {
    method: 'POST',
    path: '/api/schedules/:id/trigger',
    role: 'admin',
    summary: 'Takes one action of the schedule now (Temporal schedule trigger), whatever its overlap policy.',
    answers: { 202: ScheduleView },
    errors: ['Conflict'],
  },
];
