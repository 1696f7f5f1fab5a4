import { Router } from 'express';
import {
  CreateTemplateBody,
  NewTemplateVersionBody,
  PreApproveTemplateBody,
  RunTemplateBody,
  type Sent,
  type TemplateRun,
} from '@opsc/contracts/api';
import {
  createTemplate,
  deleteTemplate,
  listTemplates,
  newTemplateVersion,
  preApproveTemplate,
  templateDetail,
} from '../templates/template-service.js';
import { runTemplate } from '../templates/run-template.js';
import { templateOf } from '../templates/template-store.js';
import { callerOf, principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { createdJob } from './created-job.js';
import { parseBody } from './validate.js';

/** Saved plans (templates): see docs/templates.md. Every change is audited by the service. */
export const templatesRouter = (deps: ApiDeps): Router => {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json(await listTemplates(deps, principalOf(res).tenantId));
  });
  router.post('/', requireRole('operator'), async (req, res) => {
    const t = await createTemplate(deps, callerOf(req, res), parseBody(CreateTemplateBody, req));
    res.status(201).json(await templateDetail(deps, t));
  });
  router.get('/:id', async (req, res) => {
    res.json(await templateDetail(deps, await templateOf(deps.pool, principalOf(res).tenantId, String(req.params.id))));
  });
  router.post('/:id/versions', requireRole('operator'), async (req, res) => {
    const body = parseBody(NewTemplateVersionBody, req);
    const t = await newTemplateVersion(deps, callerOf(req, res), String(req.params.id), body);
    res.status(201).json(await templateDetail(deps, t));
  });
  router.delete('/:id', requireRole('operator'), async (req, res) => {
    await deleteTemplate(deps, callerOf(req, res), String(req.params.id));
    res.status(204).end();
  });
  router.post('/:id/pre-approve', requireRole('approver'), async (req, res) => {
    const body = parseBody(PreApproveTemplateBody, req);
    const t = await preApproveTemplate(deps, callerOf(req, res), String(req.params.id), body);
    res.json(await templateDetail(deps, t));
  });
  router.post('/:id/run', requireRole('operator'), async (req, res) => {
    const body = parseBody(RunTemplateBody, req);
    const run = await runTemplate(deps, callerOf(req, res), String(req.params.id), body);
    res.status(201).json({
      job: createdJob(deps, run.job),
      template: run.template,
      preApproval: run.preApproval,
    } satisfies Sent<TemplateRun>);
  });
  return router;
};
