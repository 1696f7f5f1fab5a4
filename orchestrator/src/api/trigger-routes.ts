import { Router } from 'express';
import { CreateTriggerBody, UpdateTriggerBody, type Sent, type TriggerWithSecret } from '@opsc/contracts/api';
import { createTrigger, deleteTrigger, rotateTriggerSecret, updateTrigger } from '../triggers/trigger-service.js';
import { deliveriesOf, triggerOf, triggersOf, triggerView, type TriggerRow } from '../triggers/trigger-store.js';
import { callerOf, principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { parseBody } from './validate.js';

/** Triggers: admins create and change them, operators read them and their deliveries. See docs/triggers.md. */
export const triggersRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const service = { pool: deps.pool, triggerKey: deps.triggers.key };
  const view = (row: TriggerRow) => triggerView(row, deps.triggers.key);
  // The secret is answered here once and never stored, logged or audited.
  const withSecret = (made: { trigger: TriggerRow; secret: string }): Sent<TriggerWithSecret> => ({
    trigger: view(made.trigger),
    secret: made.secret,
  });

  router.get('/', requireRole('operator'), async (_req, res) => {
    res.json({ triggers: (await triggersOf(deps.pool, principalOf(res).tenantId)).map(view) });
  });
  router.post('/', requireRole('admin'), async (req, res) => {
    const made = await createTrigger(service, callerOf(req, res), parseBody(CreateTriggerBody, req));
    res.status(201).set('cache-control', 'no-store').json(withSecret(made));
  });
  router.get('/:id', requireRole('operator'), async (req, res) => {
    res.json(view(await triggerOf(deps.pool, principalOf(res).tenantId, String(req.params.id))));
  });
  router.patch('/:id', requireRole('admin'), async (req, res) => {
    const body = parseBody(UpdateTriggerBody, req);
    res.json(view(await updateTrigger(service, callerOf(req, res), String(req.params.id), body)));
  });
  router.delete('/:id', requireRole('admin'), async (req, res) => {
    await deleteTrigger(service, callerOf(req, res), String(req.params.id));
    res.status(204).end();
  });
  router.post('/:id/rotate-secret', requireRole('admin'), async (req, res) => {
    const made = await rotateTriggerSecret(service, callerOf(req, res), String(req.params.id));
    res.set('cache-control', 'no-store').json(withSecret(made));
  });
  router.get('/:id/deliveries', requireRole('operator'), async (req, res) => {
    const t = await triggerOf(deps.pool, principalOf(res).tenantId, String(req.params.id));
    res.json({ deliveries: await deliveriesOf(deps.pool, t.id) });
  });
  return router;
};
