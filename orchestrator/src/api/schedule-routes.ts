import { Router, type Request } from 'express';
import { CreateScheduleBody, PauseScheduleBody, UpdateScheduleBody } from '@opsc/contracts/api';
import {
  createSchedule,
  deleteSchedule,
  pauseSchedule,
  triggerSchedule,
  updateSchedule,
} from '../schedules/schedule-service.js';
import { scheduleOf, schedulesOf } from '../schedules/schedule-store.js';
import { scheduleView } from '../schedules/schedule-view.js';
import { callerOf, principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { parseBody } from './validate.js';

/** Schedules: admins create and change them, operators read them. See docs/schedules.md. */
export const schedulesRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const service = { ...deps, minIntervalSeconds: deps.schedules.minIntervalSeconds };
  const id = (req: Request) => String(req.params.id);

  router.get('/', requireRole('operator'), async (_req, res) => {
    const rows = await schedulesOf(deps.pool, principalOf(res).tenantId);
    res.json({ schedules: await Promise.all(rows.map((row) => scheduleView(deps, row))) });
  });
  router.post('/', requireRole('admin'), async (req, res) => {
    const row = await createSchedule(service, callerOf(req, res), parseBody(CreateScheduleBody, req));
    res.status(201).json(await scheduleView(deps, row));
  });
  router.get('/:id', requireRole('operator'), async (req, res) => {
    res.json(await scheduleView(deps, await scheduleOf(deps.pool, principalOf(res).tenantId, id(req))));
  });
  router.patch('/:id', requireRole('admin'), async (req, res) => {
    const body = parseBody(UpdateScheduleBody, req);
    res.json(await scheduleView(deps, await updateSchedule(service, callerOf(req, res), id(req), body)));
  });
  router.delete('/:id', requireRole('admin'), async (req, res) => {
    await deleteSchedule(service, callerOf(req, res), id(req));
    res.status(204).end();
  });
  for (const [path, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const)
    router.post(`/:id/${path}`, requireRole('admin'), async (req, res) => {
      const body = parseBody(PauseScheduleBody, req);
      res.json(await scheduleView(deps, await pauseSchedule(service, callerOf(req, res), id(req), paused, body)));
    });
  router.post('/:id/trigger', requireRole('admin'), async (req, res) => {
    res.status(202).json(await scheduleView(deps, await triggerSchedule(service, callerOf(req, res), id(req))));
  });
  return router;
};
