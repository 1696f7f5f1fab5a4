import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionFields, type Plan } from '@opsc/contracts';
import { TemplateDetail, TemplateList, TemplateRun } from '@opsc/contracts/api';
import { createJobGate } from '@opsc/activities/execution';
import { expectAnswer, requestJson, waitForJob } from '../support/api.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import {
  launchChromium,
  openUserPage,
  reserveWebPort,
  screenshot,
  signIn,
  startTestWeb,
  type RunningWeb,
} from '../support/web.js';

// Saved plans (templates), end to end: the real API, PostgreSQL, Temporal, an executor process and
// two real sshd hosts. Pre-approval is checked where it matters last: the executor's job gate.
let h: SshHarness;
let api: string;
type User = { token: string; username: string };
let operator: User;
let alice: User;
let bob: User;
let viewer: User;
let executorPool: pg.Pool;
let webPort: Awaited<ReturnType<typeof reserveWebPort>>;
const PASSWORD = 'a long test password 19';

const draft = (service = 'nginx') => ({
  name: 'Restart a web service',
  steps: [
    { id: 'status', tool: 'service-status', params: { service }, targets: { group: 'Web' } },
    { id: 'restart', tool: 'service-restart', params: { service }, targets: { group: 'Web' } },
  ],
});
const restartParams = [
  {
    name: 'service',
    binds: [
      { step: 'status', param: 'service' },
      { step: 'restart', param: 'service' },
    ],
  },
  {
    name: 'where',
    binds: [
      { step: 'status', selector: 'group' },
      { step: 'restart', selector: 'group' },
    ],
  },
];

const call = <T>(path: string, user: User, body?: unknown, method?: string) =>
  requestJson<T>(`${api}${path}`, {
    token: user.token,
    ...(body !== undefined && { body }),
    ...(method && { method }),
  });
const create = async (user: User, body: Record<string, unknown>) => {
  const res = await call<TemplateDetail>('/api/templates', user, body);
  if (res.status !== 201) throw new Error(`POST /api/templates: ${res.status} ${JSON.stringify(res.body)}`);
  return expectAnswer(TemplateDetail, res.body, 'POST /api/templates');
};
const detail = async (id: string) =>
  expectAnswer(TemplateDetail, (await call<TemplateDetail>(`/api/templates/${id}`, viewer)).body, 'GET template');
const run = (id: string, user: User, params: Record<string, unknown>, version?: number) =>
  call<TemplateRun & { error?: { issues?: { path: string; message: string }[] } }>(`/api/templates/${id}/run`, user, {
    params,
    ...(version && { version }),
  });
const preApprove = (id: string, user: User, t: TemplateDetail) =>
  call<TemplateDetail>(`/api/templates/${id}/pre-approve`, user, {
    version: t.latestVersion,
    shapeHash: t.versions[0]!.shapeHash,
  });
/** What only the database's owner could do: change a saved version's risk (versions are immutable otherwise). */
const setVersionRisk = async (templateId: string, version: number, risk: string) => {
  const db = await h.stack.pool.connect();
  try {
    await db.query('BEGIN');
    await db.query('SET LOCAL session_replication_role = replica');
    await db.query('UPDATE template_versions SET risk = $1 WHERE template_id = $2 AND version = $3', [
      risk,
      templateId,
      version,
    ]);
    await db.query('COMMIT');
  } finally {
    db.release();
  }
};
const finished = (jobId: string) => waitForJob(api, operator.token, jobId, undefined, 120_000);

beforeAll(async () => {
  webPort = await reserveWebPort();
  h = await startSshHarness('templates', {
    size: 2,
    groups: { Web: [0, 1], Other: [1] },
    orchestratorEnv: webPort.orchestratorEnv,
  });
  api = h.orchestrator.apiUrl;
  await h.stack.startExecutor();
  operator = await h.stack.createUser('operator', { tenant: 'acme', username: 'olga-operator', password: PASSWORD });
  alice = await h.stack.createUser('approver', { tenant: 'acme', username: 'alice-approver' });
  bob = await h.stack.createUser('approver', { tenant: 'acme', username: 'bob-approver' });
  viewer = await h.stack.createUser('viewer', { tenant: 'acme', username: 'vera-viewer' });
  executorPool = new pg.Pool({ connectionString: h.stack.roleUrls.executor, max: 2 });
}, 240_000);

afterAll(async () => {
  await executorPool?.end();
  await h?.close();
});

describe('a change template', () => {
  let t: TemplateDetail;

  beforeAll(async () => {
    t = await create(alice, { name: 'Restart service', draft: draft(), parameters: restartParams });
  });

  it('is saved with parameters derived from the tools, listed, and read with its versions', async () => {
    expect(t).toMatchObject({ latestVersion: 1, risk: 'change', runRole: 'operator', preApproved: false });
    expect(t.versions[0]!.parameters).toEqual([
      expect.objectContaining({ name: 'service', type: 'string', default: 'nginx', patterns: [expect.any(String)] }),
      expect.objectContaining({ name: 'where', type: 'group', default: 'Web' }),
    ]);
    const list = expectAnswer(TemplateList, (await call<TemplateList>('/api/templates', viewer)).body, 'list');
    expect(list.templates.map((x) => x.name)).toContain('Restart service');
    // The name is unique per tenant; another tenant does not see it.
    expect((await call('/api/templates', alice, { name: 'restart SERVICE', draft: draft() })).status).toBe(409);
    const stranger = await h.stack.createUser('admin', { tenant: 'globex' });
    expect((await call(`/api/templates/${t.id}`, stranger)).status).toBe(404);
    expect((await run(t.id, stranger, {})).status).toBe(404);
  });

  it('names the parameter at fault: its schema, and the inventory at run time', async () => {
    const bad = await run(t.id, operator, { service: 'nginx; reboot', colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.issues).toEqual([
      { path: 'params.colour', message: 'is not a parameter of this template' },
      { path: 'params.service', message: expect.stringMatching(/^must match/) },
    ]);
    const nowhere = await run(t.id, operator, { where: 'Nowhere' });
    expect(nowhere.status).toBe(422);
    expect(nowhere.body.error?.issues).toEqual(
      expect.arrayContaining([{ path: 'params.where', message: 'no such group' }]),
    );
    // A viewer runs nothing.
    expect((await run(t.id, viewer, {})).status).toBe(403);
  });

  it('without pre-approval, a run waits for a person', async () => {
    const res = await run(t.id, operator, { where: 'Other' });
    expect(res.status).toBe(201);
    const body = expectAnswer(TemplateRun, res.body, 'run');
    expect(body.preApproval).toEqual({ applied: false, reason: 'version 1 is not pre-approved' });
    const job = await waitForJob(api, operator.token, body.job.id, (j) => j.status === 'awaiting_approval');
    expect(job.targets.map((x) => x.name)).toEqual([h.fleet.hosts[1]!.name]);
  });

  it("is pre-approved by another approver, never its version's author under four eyes", async () => {
    const own = await preApprove(t.id, alice, t);
    expect(own.status).toBe(403);
    expect(JSON.stringify(own.body)).toMatch(/four-eyes/);
    const stale = await call(`/api/templates/${t.id}/pre-approve`, bob, { version: 1, shapeHash: 'a'.repeat(64) });
    expect(stale.status).toBe(409);
    const ok = await preApprove(t.id, bob, t);
    expect(ok.status).toBe(200);
    t = expectAnswer(TemplateDetail, ok.body, 'pre-approve');
    expect(t.preApproved).toBe(true);
    expect(t.versions[0]!.preApprovals[0]).toMatchObject({ by: 'bob-approver', voidedAt: null });
  });

  it("a pre-approved run runs at once, approved in the pre-approver's name, and the executor admits it", async () => {
    const res = await run(t.id, operator, {});
    expect(res.status).toBe(201);
    const body = expectAnswer(TemplateRun, res.body, 'run');
    expect(body.preApproval).toEqual({ applied: true, reason: null });
    const job = await finished(body.job.id);
    expect(job.status).toBe('completed');
    expect(job.approval).toMatchObject({ by: 'bob-approver' });
    expect(job.results.filter((r) => r.stepId === 'restart').map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const decision = await h.stack.pool.query(
      'SELECT actor, status, preapproval_id, comment FROM job_decisions WHERE job_id = $1',
      [job.id],
    );
    expect(decision.rows).toEqual([
      {
        actor: 'bob-approver',
        status: 'applied',
        preapproval_id: t.versions[0]!.preApprovals[0]!.id,
        comment: `pre-approved: template ${t.id} v1`,
      },
    ]);
  });

  it('a run riskier than the version that was pre-approved waits for a person', async () => {
    // Were version 1 read-only when it was approved, a run that changes something is not covered.
    const setRisk = (risk: string) => setVersionRisk(t.id, 1, risk);
    await setRisk('read');
    try {
      const res = await run(t.id, operator, {});
      expect(res.status).toBe(201);
      expect(res.body.preApproval).toEqual({
        applied: false,
        reason: 'this run is change, above the read risk version 1 was pre-approved at',
      });
      await waitForJob(api, operator.token, res.body.job.id, (j) => j.status === 'awaiting_approval');
    } finally {
      await setRisk('change');
    }
  });

  it("the pre-approver's own run waits for another approver (four eyes)", async () => {
    const res = await run(t.id, bob, {});
    expect(res.status).toBe(201);
    expect(res.body.preApproval).toEqual({ applied: false, reason: expect.stringMatching(/four-eyes/) });
    await waitForJob(api, operator.token, res.body.job.id, (j) => j.status === 'awaiting_approval');
  });

  it('an edit is a new version and voids the pre-approval; only its author or an admin edits it', async () => {
    const foreign = await call(`/api/templates/${t.id}/versions`, operator, { draft: draft('cron'), parameters: [] });
    expect(foreign.status).toBe(403);
    expect(JSON.stringify(foreign.body)).toMatch(/only its author \(alice-approver\) or an admin may edit/);
    expect((await call(`/api/templates/${t.id}`, operator, undefined, 'DELETE')).status).toBe(403);
    const res = await call<TemplateDetail>(`/api/templates/${t.id}/versions`, alice, {
      draft: draft('cron'),
      parameters: restartParams,
    });
    expect(res.status).toBe(201);
    const edited = expectAnswer(TemplateDetail, res.body, 'new version');
    expect(edited).toMatchObject({ latestVersion: 2, preApproved: false });
    expect(await detail(t.id)).toEqual(edited);
    expect(edited.versions[0]!.shapeHash).not.toBe(t.versions[0]!.shapeHash);
    expect(edited.versions[1]!.preApprovals[0]).toMatchObject({
      voidedAt: expect.any(String),
      voidReason: expect.stringMatching(/version 2/),
    });
    for (const version of [undefined, 1]) {
      const again = await run(t.id, operator, {}, version);
      expect(again.status).toBe(201);
      expect(again.body.preApproval.applied).toBe(false);
      await waitForJob(api, operator.token, again.body.job.id, (j) => j.status === 'awaiting_approval');
    }
    t = edited;
  });

  it('the gate refuses a forged pre-approved job: a voided pre-approval, a shape that does not match, another job', async () => {
    // A run of version 1, whose pre-approval the edit voided: it waits for approval.
    const waiting = (await run(t.id, operator, {}, 1)).body.job;
    const manual = await requestJson<{ id: string }>(`${api}/api/jobs`, {
      token: operator.token,
      body: { draft: draft() },
    });
    expect(manual.status).toBe(201);
    const requestFor = async (jobId: string) => {
      const job = (
        await h.stack.pool.query<{ plan: Plan; resolved_targets: { targets: { id: string; name: string }[] } }>(
          'SELECT plan, resolved_targets FROM jobs WHERE id = $1',
          [jobId],
        )
      ).rows[0]!;
      const step = job.plan.steps[0]!;
      return {
        workflowId: jobId,
        jobId,
        stepId: step.id,
        target: job.resolved_targets.targets[0]!,
        timeoutSeconds: step.timeoutSeconds,
        method: step.action.method,
        fields: executionFields(step.action),
      };
    };
    const bobId = (await h.stack.pool.query('SELECT id FROM users WHERE username = $1', ['bob-approver'])).rows[0].id;
    /** An approval in bob's name, confirmed, naming a pre-approval: what only the database's owner could write. */
    const forge = (jobId: string, preapprovalId: string) =>
      h.stack.pool.query(
        `INSERT INTO job_decisions (id, job_id, tenant_id, user_id, actor, role, action, plan_hash, status, preapproval_id)
         SELECT $1, id, tenant_id, $2, 'bob-approver', 'approver', 'approve', plan_hash, 'confirmed', $3 FROM jobs WHERE id = $4`,
        [randomUUID(), bobId, preapprovalId, jobId],
      );
    const preApproval = async (shapeHash: string) => {
      const id = randomUUID();
      await h.stack.pool.query(
        `INSERT INTO template_preapprovals (id, version_id, tenant_id, shape_hash, user_id, approved_by, role)
         SELECT $1, v.id, v.tenant_id, $2, $3, 'bob-approver', 'approver' FROM template_versions v WHERE v.template_id = $4 AND v.version = 1`,
        [id, shapeHash, bobId, t.id],
      );
      return id;
    };
    const verdict = async (jobId: string) =>
      createJobGate(executorPool)
        .admit(await requestFor(jobId))
        .then(
          () => 'admitted',
          (err: Error) => err.message,
        );
    const v1 = t.versions[1]!;
    // Version 1's pre-approval was voided by the edit, before this decision.
    await forge(waiting.id, v1.preApprovals[0]!.id);
    expect(await verdict(waiting.id)).toMatch(/waits for approval/);
    // A pre-approval that holds, but whose recorded shape is not version 1's.
    const wrongShape = await preApproval(t.versions[0]!.shapeHash);
    await forge(waiting.id, wrongShape);
    expect(await verdict(waiting.id)).toMatch(/waits for approval/);
    await h.stack.pool.query('UPDATE template_preapprovals SET voided_at = now() WHERE id = $1', [wrongShape]);
    // The control: a pre-approval that holds, of version 1's own shape, admits the run of version 1...
    const good = await preApproval(v1.shapeHash);
    await forge(waiting.id, good);
    expect(await verdict(waiting.id)).toBe('admitted');
    // ...and nothing else: a job that is no run of the version stays unapproved.
    await forge(manual.body.id, good);
    expect(await verdict(manual.body.id)).toMatch(/waits for approval/);
    // ...and only at the risk it approved: were version 1 read-only, the run (a change) stays unapproved.
    await setVersionRisk(t.id, 1, 'read');
    expect(await verdict(waiting.id)).toMatch(/waits for approval/);
    await setVersionRisk(t.id, 1, 'change');
    expect(await verdict(waiting.id)).toBe('admitted');
  });

  it('a delete is audited with every other change, and the template no longer runs', async () => {
    expect((await call(`/api/templates/${t.id}`, alice, undefined, 'DELETE')).status).toBe(204);
    expect((await call(`/api/templates/${t.id}`, viewer)).status).toBe(404);
    expect((await run(t.id, operator, {})).status).toBe(404);
    const { rows } = await h.stack.pool.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_log WHERE object_type = 'template' AND object_id = $1 GROUP BY action ORDER BY action`,
      [t.id],
    );
    expect(Object.fromEntries(rows.map((r) => [r.action, r.n]))).toMatchObject({
      'template.create': 1,
      'template.update': 1,
      'template.delete': 1,
      'template.pre-approve': 1,
      'template.run': expect.any(Number),
    });
  });
});

describe('a read-only template', () => {
  it('runs as its role allows; pre-approved, a run that needs approval goes without waiting', async () => {
    const t = await create(alice, {
      name: 'Service status',
      draft: { name: 'status', steps: [draft().steps[0]] },
      parameters: [{ name: 'service', binds: [{ step: 'status', param: 'service' }] }],
      runRole: 'approver',
      approvalMode: 'required',
    });
    expect(t).toMatchObject({ risk: 'read', runRole: 'approver', approvalMode: 'required' });
    const refused = await run(t.id, operator, {});
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toMatch(/needs the approver role/);
    // Its author may pre-approve it: it changes nothing.
    expect((await preApprove(t.id, alice, t)).status).toBe(200);
    const res = await run(t.id, bob, {});
    expect(res.status).toBe(201);
    expect(res.body.job.approvalRequired).toBe(true);
    expect(res.body.preApproval.applied).toBe(true);
    const job = await finished(res.body.job.id);
    expect(job.status).toBe('completed');
    expect(job.approval).toMatchObject({ by: 'alice-approver' });
  });
});

describe('raising the run role', () => {
  it('closes the older versions too', async () => {
    const t = await create(alice, {
      name: 'Status for all',
      draft: { name: 'status', steps: [draft().steps[0]] },
      runRole: 'operator',
    });
    const raised = await call(`/api/templates/${t.id}/versions`, alice, {
      draft: { name: 'status', steps: [draft().steps[0]] },
      runRole: 'approver',
    });
    expect(raised.status).toBe(201);
    for (const version of [undefined, 1]) {
      const refused = await run(t.id, operator, {}, version);
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).toMatch(/needs the approver role; you are operator/);
    }
  });
});

describe('in the browser', () => {
  let web: RunningWeb;

  beforeAll(async () => {
    web = await startTestWeb(h.stack.namespace, api, webPort.port);
    h.base.onClose(() => web.service.stop(5_000));
  }, 120_000);

  it('saves a validated plan as a template, runs it by filling the form, and shows the job', async () => {
    const browser = await launchChromium();
    h.base.onClose(() => browser.close());
    const { page, problems } = await openUserPage(browser, web.url);
    await signIn(page, 'acme', 'olga-operator', PASSWORD);
    await page.goto('/');
    await page.getByTestId('chat-empty').waitFor();
    await page.getByLabel('Request').fill("Restart nginx on all servers in 'Web' group");
    await page.getByLabel('Request').press('Enter');
    const card = page.getByTestId('plan-card').last();
    await card.waitFor({ timeout: 30_000 });
    // Offered once the plan validates.
    await card.getByTestId('save-as-template').click({ timeout: 30_000 });
    const form = card.getByTestId('save-template-form');
    await form.getByLabel('Template name').fill('Browser restart');
    const serviceSites = form.locator('input[data-site$=".params.service"]');
    expect(await serviceSites.count()).toBeGreaterThan(0);
    for (const box of await serviceSites.all()) await box.check();
    await form.getByTestId('save-template').click();
    await page.waitForURL(/\/templates\/[0-9a-f-]{36}$/);
    expect(await page.getByTestId('template-name').textContent()).toBe('Browser restart');

    // The form is the parameter's schema: a pattern, the plan's value as the default.
    const field = page.locator('#param-service');
    expect(await field.inputValue()).toBe('nginx');
    expect(await field.getAttribute('pattern')).toBeTruthy();
    await field.fill('nginx; reboot');
    await page.getByTestId('run-template').click();
    const fieldError = page.getByTestId('param-service-error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/must match/);
    await screenshot(page, 'template-run-field-error');

    await field.fill('cron');
    await page.getByTestId('run-template').click();
    await page.waitForURL(/\/jobs\/job-/);
    const jobId = new URL(page.url()).pathname.split('/').pop()!;
    const job = await waitForJob(api, operator.token, jobId, (j) => j.status === 'awaiting_approval');
    expect(JSON.stringify(job)).toContain('cron');
    await screenshot(page, 'template-run-job');
    expect(problems).toEqual([]);
  });
});
