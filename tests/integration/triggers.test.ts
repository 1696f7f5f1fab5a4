import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForHttpOk } from '@opsc/dev';
import {
  HookAnswer,
  type TemplateDetail,
  TriggerDeliveries,
  TriggerList,
  TriggerView,
  TriggerWithSecret,
  type TriggerDelivery,
} from '@opsc/contracts/api';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { eventually, expectAnswer, recordAnswer, requestJson, waitForJob } from '../support/api.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { launchChromium, openUserPage, reserveWebPort, screenshot, signIn, startTestWeb } from '../support/web.js';

// Triggers end to end: the real API, PostgreSQL, Temporal, an executor process, two real sshd hosts
// and a real Prometheus Alertmanager (Debian's) whose webhook receivers are the triggers' URLs.
let h: SshHarness;
let api: string;
type User = { token: string; username: string };
let admin: User;
let olga: User;
let vera: User;
let alertmanager: RunningAlertmanager | undefined;
let statusTemplate: TemplateDetail;
let restartTemplate: TemplateDetail;
let webPort: Awaited<ReturnType<typeof reserveWebPort>>;
const PASSWORD = 'a long test password 19';
/** The orchestrator's environment, at its start and its restart. */
const orchestratorEnv = () => ({
  TRIGGER_BODY_LIMIT_BYTES: '4096',
  TRIGGER_SOURCE_MAX_FAILURES: '25',
  ...webPort.orchestratorEnv,
});

const call = <T>(path: string, user: User, body?: unknown, method?: string) =>
  requestJson<T>(`${api}${path}`, {
    token: user.token,
    ...(body !== undefined && { body }),
    ...(method && { method }),
  });

/** Create and rotate answer the secret, shown once: read without the suite's answer log, then planted as a test secret. */
const withSecret = async (path: string, body?: unknown): Promise<TriggerWithSecret> => {
  const res = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const answer = (await res.json()) as TriggerWithSecret;
  if (res.status !== 201 && res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  expect(res.headers.get('cache-control')).toBe('no-store');
  registerTestSecrets(`trigger secret ${answer.trigger.name}`, [answer.secret]);
  return expectAnswer(TriggerWithSecret, answer, path);
};

const sign = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
const now = () => String(Math.floor(Date.now() / 1000));

/** A delivery as a sender makes it: the answer's status and exact text. */
const deliver = async (triggerId: string, body: string, headers: Record<string, string>) => {
  const url = `${api}/api/hooks/${triggerId}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  recordAnswer(url, text);
  return {
    status: res.status,
    text,
    body: text ? (JSON.parse(text) as HookAnswer & { error?: { issues?: unknown } }) : undefined,
  };
};
/** A signed delivery; a nonce makes each body (and so each signature) new, even within one second. */
const signed = (t: TriggerWithSecret, payload: Record<string, unknown>, timestamp = now()) => {
  const body = JSON.stringify({ ...payload, nonce: randomUUID() });
  return deliver(t.trigger.id, body, {
    'x-opsc-timestamp': timestamp,
    'x-opsc-signature': sign(t.secret, timestamp, body),
  });
};
const deliveries = async (id: string): Promise<TriggerDelivery[]> =>
  expectAnswer(
    TriggerDeliveries,
    (await call<TriggerDeliveries>(`/api/triggers/${id}/deliveries`, olga)).body,
    'deliveries',
  ).deliveries;
const jobsOf = async (triggerId: string) =>
  (
    await h.stack.pool.query<{ id: string; origin: unknown }>(
      `SELECT id, origin FROM jobs WHERE origin->>'triggerId' = $1 ORDER BY created_at`,
      [triggerId],
    )
  ).rows;

const statusDraft = {
  name: 'Service status',
  steps: [{ id: 'status', tool: 'service-status', params: { service: 'nginx' }, targets: { group: 'Web' } }],
};
const restartDraft = {
  name: 'Restart a service',
  steps: [{ id: 'restart', tool: 'service-restart', params: { service: 'nginx' }, targets: { group: 'Web' } }],
};
const paramsOf = (step: string) => [
  { name: 'service', binds: [{ step, param: 'service' }] },
  { name: 'where', binds: [{ step, selector: 'group' }] },
];

beforeAll(async () => {
  webPort = await reserveWebPort();
  h = await startSshHarness('triggers', {
    size: 2,
    groups: { Web: [0, 1], Other: [1] },
    orchestratorEnv: orchestratorEnv(),
  });
  api = h.orchestrator.apiUrl;
  await h.stack.startExecutor();
  admin = h.base.admin;
  olga = await h.stack.createUser('operator', { tenant: 'acme', username: 'olga-operator' });
  vera = await h.stack.createUser('viewer', { tenant: 'acme', username: 'vera-viewer' });
  const template = async (name: string, draft: unknown, step: string) => {
    const res = await call<TemplateDetail>('/api/templates', olga, { name, draft, parameters: paramsOf(step) });
    if (res.status !== 201) throw new Error(`template ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  statusTemplate = await template('Service status', statusDraft, 'status');
  restartTemplate = await template('Restart service', restartDraft, 'restart');
}, 240_000);

afterAll(async () => {
  await alertmanager?.stop();
  await h?.close();
});

describe('a generic trigger', () => {
  let t: TriggerWithSecret;

  it('is created by an admin, bound to a template and an owner; its secret is shown once', async () => {
    t = await withSecret('/api/triggers', {
      name: 'Status hook',
      templateId: statusTemplate.id,
      kind: 'generic',
      ownerId: (await h.stack.pool.query('SELECT id FROM users WHERE username = $1', ['olga-operator'])).rows[0].id,
      mapping: { service: { from: '$.service' }, where: { from: "$['host group']", default: 'Web' } },
    });
    expect(t.secret).toMatch(/^opsc_trg_[A-Za-z0-9_-]{43}$/);
    expect(t.trigger).toMatchObject({ kind: 'generic', owner: { username: 'olga-operator' }, secretUsable: true });
    const list = expectAnswer(TriggerList, (await call<TriggerList>('/api/triggers', olga)).body, 'list');
    expect(list.triggers.map((x) => x.id)).toEqual([t.trigger.id]);
    expect(JSON.stringify(list)).not.toContain(t.secret);
    const one = await call<TriggerView>(`/api/triggers/${t.trigger.id}`, olga);
    expect(expectAnswer(TriggerView, one.body, 'detail')).toEqual(t.trigger);
    // Admins change triggers; operators read them; viewers and other tenants see nothing.
    expect(
      (await call('/api/triggers', olga, { name: 'x', templateId: statusTemplate.id, kind: 'generic' })).status,
    ).toBe(403);
    expect((await call('/api/triggers', vera)).status).toBe(403);
    const stranger = await h.stack.createUser('admin', { tenant: 'globex' });
    expect((await call(`/api/triggers/${t.trigger.id}`, stranger)).status).toBe(404);
    expect(
      (await call('/api/triggers', stranger, { name: 'x', templateId: statusTemplate.id, kind: 'generic' })).body,
    ).toMatchObject({
      error: { issues: [{ path: 'templateId', message: 'no such template' }] },
    });
    // Fields at fault are named: a mapping of a parameter the template lacks, a path outside the language.
    const bad = await call<{ error: { issues: unknown[] } }>('/api/triggers', admin, {
      name: 'Bad',
      templateId: statusTemplate.id,
      kind: 'generic',
      mapping: { colour: { value: 'red' }, service: { from: 'labels.service' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues).toEqual([
      { path: 'mapping.service.from', message: expect.stringMatching(/starts with \$/) },
    ]);
    const unknown = await call<{ error: { issues: unknown[] } }>('/api/triggers', admin, {
      name: 'Bad',
      templateId: statusTemplate.id,
      kind: 'generic',
      mapping: { colour: { value: 'red' } },
    });
    expect(unknown.body.error.issues).toEqual([
      { path: 'mapping.colour', message: 'is not a parameter of template version 1' },
    ]);
  });

  it('a signed delivery runs the template as the owner; the job records the trigger as its origin', async () => {
    const res = await signed(t, { service: 'nginx', 'host group': 'Other' });
    expect(res.status).toBe(202);
    const answer = expectAnswer(HookAnswer, res.body!, 'hook');
    expect(answer).toMatchObject({ outcome: 'accepted', jobId: expect.stringMatching(/^job-/) });
    const job = await waitForJob(api, olga.token, answer.jobId!, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.targets.map((x) => x.name)).toEqual([h.fleet.hosts[1]!.name]);
    expect((job as unknown as { origin: unknown }).origin).toEqual({
      kind: 'trigger',
      triggerId: t.trigger.id,
      templateId: statusTemplate.id,
      version: 1,
    });
    const audit = await h.stack.pool.query<{ action: string; actor: string }>(
      `SELECT action, actor FROM audit_log WHERE job_id = $1 OR (object_id = $2 AND action = 'trigger.fire') ORDER BY id`,
      [answer.jobId, t.trigger.id],
    );
    expect(audit.rows).toEqual(
      expect.arrayContaining([
        { action: 'job.submit', actor: 'olga-operator' },
        { action: 'template.run', actor: 'olga-operator' },
        { action: 'trigger.fire', actor: 'olga-operator' },
      ]),
    );
    expect((await deliveries(t.trigger.id))[0]).toMatchObject({
      outcome: 'accepted',
      jobId: answer.jobId,
      reason: null,
    });
  });

  it('refuses a bad signature, an old timestamp, a replay and an unknown trigger with the same 401', async () => {
    const body = JSON.stringify({ service: 'nginx', nonce: randomUUID() });
    const ts = now();
    const good = { 'x-opsc-timestamp': ts, 'x-opsc-signature': sign(t.secret, ts, body) };
    expect((await deliver(t.trigger.id, body, good)).status).toBe(202);
    const old = String(Number(ts) - 400);
    const refusals = await Promise.all([
      deliver(t.trigger.id, body, { ...good, 'x-opsc-signature': sign('opsc_trg_guess', ts, body) }),
      deliver(t.trigger.id, `${body} `, good),
      deliver(t.trigger.id, body, { 'x-opsc-timestamp': old, 'x-opsc-signature': sign(t.secret, old, body) }),
      deliver(t.trigger.id, body, good),
      deliver(t.trigger.id, body, {}),
      deliver(randomUUID(), body, good),
      deliver('not-a-uuid', body, good),
    ]);
    for (const r of refusals)
      expect({ status: r.status, text: r.text }).toEqual({ status: 401, text: refusals[0]!.text });
    expect(refusals[0]!.body).toEqual({ error: { type: 'AuthFailed', message: 'the delivery is not authenticated' } });
    // The admins see why, the sender never does.
    const reasons = await eventually(async () => {
      const refused = (await deliveries(t.trigger.id)).filter((d) => d.outcome === 'refused').map((d) => d.reason);
      return refused.length >= 5 ? refused : undefined;
    });
    expect(reasons).toHaveLength(5);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'bad signature',
        'replayed signature',
        expect.stringMatching(/^the timestamp is 40\d s from the server's clock/),
      ]),
    );
    expect(reasons.filter((r) => r === 'bad signature')).toHaveLength(3);
    // A body over the limit is refused before it is read, the same for every id.
    const big = JSON.stringify({ service: 'x'.repeat(5000) });
    const [known, other] = [await deliver(t.trigger.id, big, good), await deliver(randomUUID(), big, good)];
    expect(known.status).toBe(413);
    expect({ status: other.status, text: other.text }).toEqual({ status: 413, text: known.text });
    await eventually(
      async () => (await deliveries(t.trigger.id)).find((d) => d.reason === 'the body is larger than 4096 bytes'),
      10_000,
      'the oversized delivery recorded',
    );
    // Each refusal of a known trigger is audited (after its answer is sent).
    const refusedAudits = async () =>
      (
        await h.stack.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_log WHERE object_id = $1 AND action = 'trigger.refused'`,
          [t.trigger.id],
        )
      ).rows[0]!.n;
    await eventually(async () => ((await refusedAudits()) === 6 ? true : undefined), 10_000, 'six refusals audited');
  });

  it('names the parameter and the payload path at fault; no free text becomes a plan', async () => {
    const missing = await signed(t, { text: 'restart everything' });
    expect(missing.status).toBe(400);
    expect(missing.body?.error?.issues).toEqual([
      { path: 'params.service', message: 'the payload has no value at $.service (mapped from $.service)' },
    ]);
    const hostile = await signed(t, { service: 'nginx; reboot' });
    expect(hostile.status).toBe(400);
    expect(hostile.body?.error?.issues).toEqual([
      { path: 'params.service', message: expect.stringMatching(/^must match .* \(mapped from \$\.service\)$/) },
    ]);
    const nowhere = await signed(t, { service: 'nginx', 'host group': 'Nowhere' });
    expect(nowhere.status).toBe(422);
    expect(nowhere.body?.error?.issues).toEqual(
      expect.arrayContaining([{ path: 'params.where', message: "no such group (mapped from $['host group'])" }]),
    );
    expect((await jobsOf(t.trigger.id)).length).toBe(2);
  });

  it('is refused, and audited, while disabled or while its owner is disabled', async () => {
    expect((await call(`/api/triggers/${t.trigger.id}`, admin, { enabled: false }, 'PATCH')).status).toBe(200);
    const timestamp = now();
    const body = JSON.stringify({ service: 'nginx', nonce: randomUUID() });
    const headers = { 'x-opsc-timestamp': timestamp, 'x-opsc-signature': sign(t.secret, timestamp, body) };
    const off = await deliver(t.trigger.id, body, headers);
    expect(off.status).toBe(403);
    expect(off.text).toMatch(/the trigger is disabled/);
    expect((await call(`/api/triggers/${t.trigger.id}`, admin, { enabled: true }, 'PATCH')).status).toBe(200);
    // The refused delivery's signature was taken: replayed now that the trigger is enabled, it starts nothing.
    expect((await deliver(t.trigger.id, body, headers)).status).toBe(401);
    // The owner cannot be deleted from under the trigger; disabled, their trigger stops.
    expect((await call('/api/users/olga-operator', admin, undefined, 'DELETE')).status).toBe(409);
    expect((await call('/api/users/olga-operator', admin, { disabled: true }, 'PATCH')).status).toBe(200);
    try {
      const res = await signed(t, { service: 'nginx' });
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/owner olga-operator is disabled/);
    } finally {
      expect((await call('/api/users/olga-operator', admin, { disabled: false }, 'PATCH')).status).toBe(200);
    }
    const audited = await h.stack.pool.query<{ reason: string }>(
      `SELECT details->>'reason' AS reason FROM audit_log WHERE object_id = $1 AND action = 'trigger.refused' ORDER BY id DESC LIMIT 3`,
      [t.trigger.id],
    );
    expect(audited.rows.map((r) => r.reason)).toEqual([
      "the trigger's owner olga-operator is disabled",
      'replayed signature',
      'the trigger is disabled',
    ]);
  });

  it('a rotated secret replaces the old one at once', async () => {
    const rotated = await withSecret(`/api/triggers/${t.trigger.id}/rotate-secret`);
    expect(rotated.secret).not.toBe(t.secret);
    expect((await signed(t, { service: 'nginx' })).status).toBe(401);
    t = rotated;
    expect((await signed(t, { service: 'nginx' })).status).toBe(202);
  });

  it('takes a burst of deliveries to one trigger, more than the orchestrator has database connections', async () => {
    // One at a time per trigger; those waiting hold no connection, so the one running is never starved.
    const burst = await Promise.all(
      Array.from({ length: 14 }, () => signed(t, { service: 'nginx', 'host group': 'Other' })),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(14).fill(202));
    expect(new Set(burst.map((r) => r.body!.jobId)).size).toBe(14);
  });

  it('a delivery interrupted after its job was recorded is answered with that job when the sender retries', async () => {
    // Another body than the deliveries before it in the same second (each signature is taken once).
    const payload = JSON.stringify({ service: 'nginx', id: randomUUID() });
    const ts = now();
    const headers = { 'x-opsc-timestamp': ts, 'x-opsc-signature': sign(t.secret, ts, payload) };
    const first = await deliver(t.trigger.id, payload, headers);
    expect(first.status).toBe(202);
    // What a stopped orchestrator leaves: the job recorded, its delivery still pending.
    await h.stack.pool.query(`UPDATE trigger_deliveries SET outcome = 'pending', job_id = NULL WHERE job_id = $1`, [
      first.body!.jobId,
    ]);
    const retry = await deliver(t.trigger.id, payload, headers);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ outcome: 'duplicate', jobId: first.body!.jobId });
    expect((await deliveries(t.trigger.id)).find((d) => d.jobId === first.body!.jobId)).toMatchObject({
      outcome: 'accepted',
      recovered: true,
    });
  });
});

describe('a trigger of a change template', () => {
  it('waits for approval unless the template is pre-approved', async () => {
    const t = await withSecret('/api/triggers', {
      name: 'Restart hook',
      templateId: restartTemplate.id,
      kind: 'generic',
      mapping: { service: { from: '$.service' }, where: { value: 'Other' } },
    });
    const res = await signed(t, { service: 'cron' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ outcome: 'accepted', reason: 'the job waits for approval' });
    const job = await waitForJob(api, olga.token, res.body!.jobId!, (j) => j.status === 'awaiting_approval');
    expect(JSON.stringify(job)).toContain('cron');

    // Pre-approved by an approver, the same trigger's next job runs at once, approved in their name:
    // the executor's gate admits it as a run of the version pre-approved (its origin names it).
    const bob = await h.stack.createUser('approver', { tenant: 'acme', username: 'bob-approver' });
    const approved = await call(`/api/templates/${restartTemplate.id}/pre-approve`, bob, {
      version: 1,
      shapeHash: restartTemplate.versions[0]!.shapeHash,
    });
    expect(approved.status).toBe(200);
    const again = await signed(t, { service: 'nginx' });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ outcome: 'accepted', reason: null });
    const ran = await waitForJob(api, olga.token, again.body!.jobId!, undefined, 120_000);
    expect(ran.status).toBe('completed');
    expect(ran.approval).toMatchObject({ by: 'bob-approver' });
    expect(ran.results.map((r) => r.status)).toEqual(['succeeded']);
  });
});

describe('Alertmanager triggers, with a real Alertmanager', () => {
  let ignoring: TriggerWithSecret;
  let mapping: TriggerWithSecret;
  const alert = (receiver: string, instance: string, extra: Record<string, string> = {}) => ({
    labels: { alertname: 'ServiceDown', service: 'nginx', group: 'Other', receiver, instance, ...extra },
    annotations: { summary: `nginx is down on ${instance}` },
  });
  const accepted = (id: string, n: number) =>
    eventually(
      async () => {
        const list = (await deliveries(id)).filter((d) => d.outcome === 'accepted');
        return list.length >= n ? list : undefined;
      },
      60_000,
      `${n} accepted deliveries`,
    );

  beforeAll(async () => {
    const am = (name: string, extra: Record<string, unknown>) =>
      withSecret('/api/triggers', {
        name,
        templateId: statusTemplate.id,
        kind: 'alertmanager',
        mapping: { service: { from: '$.commonLabels.service' }, where: { from: '$.commonLabels.group' } },
        dedupeSeconds: 600,
        ...extra,
      });
    ignoring = await am('Alerts', {});
    mapping = await am('Alerts with recovery', {
      resolvedMapping: { service: { from: '$.commonLabels.service' }, where: { value: 'Web' } },
    });
    expect(ignoring.secret).toMatch(/^opsc_trg_/);
    alertmanager = await startAlertmanager(
      'triggers',
      [ignoring, mapping].map((t) => ({
        name: t.trigger.id,
        url: `${api}/api/hooks/${t.trigger.id}`,
        credentials: t.secret,
      })),
      { repeatSeconds: 4 },
    );
  }, 60_000);

  it('one job per firing group; a repeat of the same firing alerts starts none; resolved is ignored', async () => {
    const id = ignoring.trigger.id;
    await alertmanager!.postAlerts([alert(id, 'web-1:9100'), alert(id, 'web-2:9100')]);
    const [first] = await accepted(id, 1);
    const job = await waitForJob(api, olga.token, first!.jobId!, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.targets.map((x) => x.name)).toEqual([h.fleet.hosts[1]!.name]);
    // Alertmanager repeats the notification (repeat_interval): answered with the job it started.
    const duplicate = await eventually(
      async () => (await deliveries(id)).find((d) => d.outcome === 'duplicate'),
      60_000,
      'a repeat notification',
    );
    expect(duplicate.jobId).toBe(first!.jobId);
    // Resolved: ignored, no job.
    await alertmanager!.postAlerts(
      [alert(id, 'web-1:9100'), alert(id, 'web-2:9100')].map((a) => ({
        ...a,
        endsAt: new Date(Date.now() - 1000).toISOString(),
      })),
    );
    await eventually(async () => (await deliveries(id)).find((d) => d.outcome === 'ignored'), 60_000, 'resolved');
    expect((await jobsOf(id)).map((j) => j.id)).toEqual([first!.jobId]);
    expect((await deliveries(id)).filter((d) => d.outcome === 'refused')).toEqual([]);
  });

  it('a resolved notification runs the resolved mapping where one is set', async () => {
    const id = mapping.trigger.id;
    await alertmanager!.postAlerts([alert(id, 'web-3:9100')]);
    await accepted(id, 1);
    await alertmanager!.postAlerts([{ ...alert(id, 'web-3:9100'), endsAt: new Date(Date.now() - 1000).toISOString() }]);
    // Newest first: the resolved notification's job, over the whole of 'Web'.
    const [recovery, firing] = await accepted(id, 2);
    expect(recovery!.jobId).not.toBe(firing!.jobId);
    const job = await waitForJob(api, olga.token, recovery!.jobId!, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.targets).toHaveLength(2);
  });

  it('a bearer that does not match is refused like any unauthenticated delivery', async () => {
    const body = JSON.stringify({ version: '4', status: 'firing', groupKey: 'x', alerts: [] });
    const wrong = await deliver(ignoring.trigger.id, body, { authorization: `Bearer ${mapping.secret}` });
    const none = await deliver(ignoring.trigger.id, body, {});
    for (const r of [wrong, none])
      expect(r).toMatchObject({
        status: 401,
        text: JSON.stringify({ error: { type: 'AuthFailed', message: 'the delivery is not authenticated' } }),
      });
  });

  it('nothing is lost while the orchestrator is down: Alertmanager retries and the job starts after the restart', async () => {
    const id = ignoring.trigger.id;
    const port = new URL(api).port;
    await h.orchestrator.service.stop(10_000);
    const failedBefore = await alertmanager!.metric('alertmanager_notification_requests_failed_total');
    await alertmanager!.postAlerts([alert(id, 'web-9:9100', { alertname: 'ExporterDown', group: 'Web' })]);
    await eventually(
      async () =>
        (await alertmanager!.metric('alertmanager_notification_requests_failed_total')) > failedBefore
          ? true
          : undefined,
      30_000,
      'a failed delivery while the orchestrator is down',
    );
    const restarted = await h.stack.spawnOrchestrator({ API_PORT: port, ...orchestratorEnv() });
    await waitForHttpOk(`${api}/api/health`, 90_000, restarted.service);
    const web = await eventually(
      async () =>
        (
          await h.stack.pool.query<{ id: string }>(
            `SELECT id FROM jobs WHERE origin->>'triggerId' = $1 AND plan->'steps'->0->'targets'->>'group' = 'Web'`,
            [id],
          )
        ).rows[0]?.id,
      120_000,
      'the job of the alert sent while the orchestrator was down',
    );
    expect((await waitForJob(api, olga.token, web, undefined, 120_000)).status).toBe('completed');
  });
});

describe('in the browser', () => {
  it('an admin creates a trigger with its mapping, copies the secret shown once, and sees the signed delivery', async () => {
    await h.stack.createUser('admin', { tenant: 'acme', username: 'ada-admin', password: PASSWORD });
    const web = await startTestWeb(h.stack.namespace, api, webPort.port);
    h.base.onClose(() => web.service.stop(5_000));
    const browser = await launchChromium();
    h.base.onClose(() => browser.close());
    const { page, problems } = await openUserPage(browser, web.url);
    await signIn(page, 'acme', 'ada-admin', PASSWORD);
    await page.goto('/triggers');
    const form = page.getByTestId('trigger-form');
    await form.getByLabel('Trigger name').fill('Browser hook');
    await form.getByLabel('Template').selectOption({ label: 'Service status' });
    await form.getByLabel('service takes').selectOption('from');
    await form.getByLabel('service source').fill('$.service');
    await form.getByLabel('where takes').selectOption('value');
    await form.getByLabel('where source').fill('Other');
    await form.getByTestId('create-trigger').click();
    const box = page.getByTestId('trigger-secret');
    await box.waitFor();
    const secret = (await box.getByTestId('trigger-secret-value').textContent())!;
    registerTestSecrets('trigger secret Browser hook', [secret]);
    expect(secret).toMatch(/^opsc_trg_/);
    await box.getByTestId('copy-secret').click();
    const example = (await box.getByTestId('trigger-example').textContent())!;
    expect(example).toContain(`${web.url}/api/hooks/`);
    await screenshot(page, 'trigger-created');
    // The example as shown, run by a shell: openssl signs, curl delivers (through the web app's proxy).
    const signed = await promisify(execFile)('bash', ['-c', example.replace('<service>', 'nginx')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const answer = JSON.parse(signed.stdout) as HookAnswer;
    expect(answer).toMatchObject({ outcome: 'accepted', jobId: expect.stringMatching(/^job-/) });
    await box.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('trigger-secret').count()).resolves.toBe(0);
    await page.getByTestId('deliveries-Browser hook').click();
    await page.locator('[data-testid="deliveries-table"] tr[data-outcome="accepted"]').waitFor();
    expect(await page.getByTestId('deliveries-table').textContent()).toContain(answer.jobId);
    await screenshot(page, 'trigger-deliveries');
    expect((await waitForJob(api, olga.token, answer.jobId!, undefined, 120_000)).status).toBe('completed');
    expect(problems).toEqual([]);
  });
});

describe('a source that keeps failing', () => {
  it('is rate limited, whatever trigger it names', async () => {
    let last = 0;
    for (let i = 0; i < 40 && last !== 429; i++) last = (await deliver(randomUUID(), '{}', {})).status;
    expect(last).toBe(429);
    const res = await fetch(`${api}/api/hooks/${randomUUID()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
