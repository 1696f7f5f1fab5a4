import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue, notificationContext } from '@opsc/contracts';
import { SealedSecret } from '@opsc/contracts/sealing';
import { createKeyring, openSecret, type Keyring } from '@opsc/activities/vault';
import {
  JobNotificationList,
  NotificationChannelList,
  NotificationTestAnswer,
  TemplateDetail,
  TemplateRun,
} from '@opsc/contracts/api';
import { vaultCli } from '../support/cli.js';
import { allowEgress, eventually, expectAnswer, requestJson, waitForJob } from '../support/api.js';
import { HttpReceiver, SmtpServer } from '../support/notify-receivers.js';
import { control, type Created } from '../support/rollout.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { slowThenEcho } from '../support/plans.js';
import { createTestStack, type RunningExecutor, type RunningOrchestrator, type TestStack } from '../support/stack.js';

// Issue 19, notifications: each event on each kind of channel, against real receivers started here
// (an HTTP receiver checking the webhook's HMAC and Slack's payload; aiosmtpd with STARTTLS and AUTH).
let stack: TestStack;
let apiUrl: string;
let orchestrator: RunningOrchestrator;
let executor: RunningExecutor;
let receiver: HttpReceiver;
let smtp: SmtpServer;
type User = { token: string; username: string };
let admin: User;
let approver: User;

const SIGNING_SECRET = `sig-${randomBytes(16).toString('hex')}`;
const SLACK_PATH = `/services/T0001/B0001/${randomBytes(12).toString('hex')}`;
const SMTP_PASSWORD = `smtp-${randomBytes(12).toString('hex')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(12).toString('hex')}`;
const EVENTS = ['approval_needed', 'awaiting_decision', 'job_failed', 'rolled_back', 'finished'];

const echo = (id: string) => ({ id, name: id, action: { method: 'local-command', command: 'echo', args: [id] } });
const quick = (name: string) => ({ name, steps: [echo('hello')] });
const gated = (name: string) => ({ name, steps: [echo('hello')], policies: { approvalRequired: true } });
/**
 * Changes something (an HTTP POST, whose undo is another POST), then fails and asks: rolled back,
 * it undoes the change. The receiver answers both.
 */
const asking = (name: string) => ({
  name,
  steps: [
    {
      id: 'change',
      name: 'change',
      action: { method: 'http', url: receiver.url('/change'), httpMethod: 'POST' },
      rollback: {
        tool: 'run-command',
        name: 'undo change',
        action: { method: 'http', url: receiver.url('/undo'), httpMethod: 'POST' },
      },
    },
    { id: 'fail', name: 'fail', action: { method: 'local-command', command: 'false', args: [] } },
  ],
  policies: { onFailThreshold: 'ask', decisionTimeoutSeconds: 600 },
});

const api = <T = Record<string, unknown>>(
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
) => requestJson<T>(`${apiUrl}${path}`, { token: admin.token, ...init });

const submit = async (plan: unknown): Promise<Created> => {
  const { status, body } = await api<Created>('/api/jobs', { body: { plan } });
  if (status !== 201) throw new Error(`POST /api/jobs: ${status} ${JSON.stringify(body)}`);
  return body;
};
const waitStatus = (id: string, status: string, timeoutMs = 60_000) =>
  waitForJob(apiUrl, admin.token, id, (j) => j.status === status, timeoutMs);
/** Runs a plan that needs no person, to its end. */
const runQuick = async (name: string): Promise<string> => {
  const job = await submit(quick(name));
  if (job.approvalRequired) throw new Error('a quick job needs no approval');
  await waitStatus(job.id, 'completed');
  return job.id;
};

const notificationsOf = async (jobId: string) => {
  const { status, body } = await api<JobNotificationList>(`/api/jobs/${jobId}/notifications`, {
    token: approver.token,
  });
  expect(status).toBe(200);
  return expectAnswer(JobNotificationList, body, 'GET /api/jobs/:id/notifications').notifications;
};
/** Mails whose Message-ID is the event's (headers unfolded: a long one may be folded onto the next line). */
const mailsFor = (eventId: string) =>
  smtp.mails.filter((m) => new RegExp(`^message-id: <${eventId}@`, 'mi').test(m.data.replace(/\r?\n[ \t]+/g, ' ')));
const webhooksFor = (eventId: string) => receiver.answered.filter((r) => r.path === '/hook' && r.eventId === eventId);
const slacksFor = (eventId: string) =>
  receiver.answered.filter(
    (r) => r.path === SLACK_PATH && String(r.body.text).length > 0 && JSON.stringify(r.body).includes(eventId),
  );

const subscribe = async (subscriptions: { channel: string; event: string }[]) => {
  const res = await api('/api/notifications/subscriptions', { method: 'PUT', body: { subscriptions } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};
const everyEvent = (channels: string[]) => channels.flatMap((channel) => EVENTS.map((event) => ({ channel, event })));

beforeAll(async () => {
  registerTestSecrets('the notification channels of notifications.test', [
    SIGNING_SECRET,
    SLACK_PATH.split('/').at(-1)!,
    SMTP_PASSWORD,
    WRONG_PASSWORD,
  ]);
  stack = await createTestStack('notify');
  orchestrator = await stack.startOrchestrator();
  apiUrl = orchestrator.apiUrl;
  executor = await stack.startExecutor();
  admin = await stack.createUser('admin', { username: 'ada-admin' });
  approver = await stack.createUser('approver', { username: 'alice-approver' });
  receiver = await HttpReceiver.start(SIGNING_SECRET);
  smtp = await SmtpServer.start('notify', SMTP_PASSWORD);
  // Loopback receivers are refused unless the tenant allows them, port by port.
  await allowEgress(apiUrl, admin.token, [`127.0.0.1:${receiver.port}`, `127.0.0.1:${smtp.port}`]);
  const channels = [
    { kind: 'webhook', name: 'web', url: receiver.url('/hook'), secret: SIGNING_SECRET },
    { kind: 'slack', name: 'chat', url: receiver.url(SLACK_PATH) },
    {
      kind: 'email',
      name: 'mail',
      host: '127.0.0.1',
      port: smtp.port,
      username: 'notify',
      password: SMTP_PASSWORD,
      from: 'opsc@example.test',
      to: ['ops@example.test'],
      caPem: smtp.caPem,
    },
  ];
  for (const channel of channels) {
    const res = await api('/api/notifications/channels', { body: channel });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  await subscribe(everyEvent(['web', 'chat', 'mail']));
}, 240_000);

afterAll(async () => {
  await receiver?.down();
  await smtp?.stop();
  await stack?.close();
});

describe('notification channels through the API', () => {
  it('answers settings and fingerprints, never a secret, and audits each change', async () => {
    const { status, body } = await api<NotificationChannelList>('/api/notifications/channels');
    expect(status).toBe(200);
    const { channels } = expectAnswer(NotificationChannelList, body, 'GET /api/notifications/channels');
    expect(channels.map((c) => [c.name, c.kind, c.events.length])).toEqual([
      ['chat', 'slack', 5],
      ['mail', 'email', 5],
      ['web', 'webhook', 5],
    ]);
    const text = JSON.stringify(body);
    for (const secret of [SIGNING_SECRET, SLACK_PATH, SMTP_PASSWORD]) expect(text).not.toContain(secret);
    expect((await api('/api/notifications/channels', { token: approver.token })).status).toBe(403);
    const bad = await api('/api/notifications/channels', {
      body: {
        kind: 'email',
        name: 'x',
        host: '127.0.0.1',
        username: 'u',
        password: 'p',
        from: 'a@b',
        to: ['bad address'],
      },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('to.0');
    const { rows } = await stack.pool.query(
      "SELECT action, details::text FROM audit_log WHERE object_type = 'notification-channel' ORDER BY id",
    );
    expect(rows.map((r: { action: string }) => r.action)).toEqual([
      'notification-channel.create',
      'notification-channel.create',
      'notification-channel.create',
    ]);
  });

  it('sends a test notification through the executor on each channel', async () => {
    for (const name of ['web', 'chat', 'mail']) {
      const { status, body } = await api<NotificationTestAnswer>(`/api/notifications/channels/${name}/test`, {
        body: {},
      });
      expect(status).toBe(200);
      const answer = expectAnswer(NotificationTestAnswer, body, 'POST .../test');
      expect(answer, name).toMatchObject({ status: 'delivered', error: null });
    }
    expect(receiver.answered.filter((r) => r.body.event === 'test' && r.signed)).toHaveLength(1);
    expect(
      receiver.answered.filter((r) => r.path === SLACK_PATH && String(r.body.text).startsWith('Test')),
    ).toHaveLength(1);
    expect(smtp.mails.filter((m) => m.data.includes('Test notification'))).toHaveLength(1);
  });
});

describe('a job notifies its channels', () => {
  // A case that fails midway leaves the receiver answering for the next.
  afterEach(async () => {
    receiver.release();
    if (!receiver.isUp) await receiver.up();
  });

  it('delivers each event once on each kind of channel: signed webhook, Slack payload, mail over STARTTLS with AUTH', async () => {
    const a = await submit(gated('notify approve'));
    await waitStatus(a.id, 'awaiting_approval');
    expect((await control(apiUrl, approver.token, a.id, 'approve', { planHash: a.planHash })).status).toBe(200);
    await waitStatus(a.id, 'completed');
    const b = await submit(asking('notify decide'));
    if (b.approvalRequired) {
      await waitStatus(b.id, 'awaiting_approval');
      expect((await control(apiUrl, approver.token, b.id, 'approve', { planHash: b.planHash })).status).toBe(200);
    }
    await waitStatus(b.id, 'awaiting_decision');
    expect((await control(apiUrl, approver.token, b.id, 'decide', { choice: 'rollback' })).status).toBe(200);
    await waitStatus(b.id, 'failed');

    expect(receiver.answered.filter((r) => r.path === '/undo')).toHaveLength(1);
    const bEvents = [
      ...(b.approvalRequired ? ['approval_needed'] : []),
      'awaiting_decision',
      'job_failed',
      'rolled_back',
      'finished',
    ];
    const expected = [
      ...['approval_needed', 'finished'].map((e) => `notify-${a.id}-${e}-1`),
      ...bEvents.map((e) => `notify-${b.id}-${e}-1`),
    ];
    await eventually(
      async () =>
        expected.every((id) => webhooksFor(id).length && slacksFor(id).length && mailsFor(id).length) || undefined,
      60_000,
      'every notification on every channel',
    );
    for (const id of expected) {
      expect(webhooksFor(id), id).toHaveLength(1);
      expect(webhooksFor(id)[0]).toMatchObject({ signed: true, body: { id } });
      expect(slacksFor(id), id).toHaveLength(1);
      expect(slacksFor(id)[0]!.body.blocks).toEqual(
        expect.arrayContaining([expect.objectContaining({ type: 'section' })]),
      );
      expect(mailsFor(id), id).toHaveLength(1);
      expect(mailsFor(id)[0]).toMatchObject({ tls: true, user: 'notify', to: ['ops@example.test'] });
    }
    expect(webhooksFor(`notify-${b.id}-job_failed-1`)[0]!.body).toMatchObject({
      event: 'job_failed',
      job: { id: b.id, status: 'failed', name: 'notify decide' },
    });
    const listed = await notificationsOf(b.id);
    expect(listed.map((n) => `${n.event}/${n.channel}/${n.status}`).sort()).toEqual(
      bEvents.flatMap((e) => ['chat', 'mail', 'web'].map((c) => `${e}/${c}/delivered`)).sort(),
    );
  });

  it('a receiver down during delivery gets the notification once it is back; the job is not held', async () => {
    await receiver.down();
    const jobId = await runQuick('notify while down');
    const eventId = `notify-${jobId}-finished-1`;
    // The job finished; the deliveries to the receiver wait and retry, the mail went out.
    const retrying = await eventually(
      async () => {
        const list = await notificationsOf(jobId);
        const web = list.filter((n) => n.channel !== 'mail');
        return web.length === 2 && web.every((n) => n.status === 'retrying') ? web : undefined;
      },
      30_000,
      'the deliveries to be retried',
    );
    expect(retrying[0]!.error).toMatch(/unreachable \(ECONNREFUSED\)/);
    await eventually(async () => (mailsFor(eventId).length ? true : undefined), 30_000, 'the mail');
    await receiver.up();
    await eventually(
      async () => ((await notificationsOf(jobId)).every((n) => n.status === 'delivered') ? true : undefined),
      60_000,
      'delivery after the receiver came back',
    );
    expect(webhooksFor(eventId)).toHaveLength(1);
    expect(slacksFor(eventId)).toHaveLength(1);
  });

  it('an executor killed during a delivery: delivered after another executor starts', async () => {
    receiver.hold = true;
    const arrivals = receiver.arrivals;
    const jobId = await runQuick('notify executor crash');
    const eventId = `notify-${jobId}-finished-1`;
    await eventually(async () => (receiver.arrivals > arrivals ? true : undefined), 30_000, 'a delivery in flight');
    executor.service.kill('SIGKILL');
    await executor.service.exited;
    receiver.release();
    executor = await stack.startExecutor();
    await eventually(
      async () => ((await notificationsOf(jobId)).every((n) => n.status === 'delivered') ? true : undefined),
      90_000,
      'delivery after the executor came back',
    );
    expect(webhooksFor(eventId)).toHaveLength(1);
    expect(slacksFor(eventId)).toHaveLength(1);
    expect(mailsFor(eventId)).toHaveLength(1);
  });

  it('an orchestrator killed while a delivery is in flight and while one is due: each delivered once, the job not held', async () => {
    /** The deliveries of an event as the executor recorded them (read straight from the database: the API may be down). */
    const deliveries = async (eventId: string) =>
      (
        await stack.pool.query<{ status: string }>('SELECT status FROM notification_deliveries WHERE event_id = $1', [
          eventId,
        ])
      ).rows;
    const killOrchestrator = async () => {
      orchestrator.service.kill('SIGKILL');
      await orchestrator.service.exited;
    };
    const restartOrchestrator = async () => {
      orchestrator = await stack.startOrchestrator();
      apiUrl = orchestrator.apiUrl;
    };
    const allDelivered = (eventId: string) =>
      eventually(
        async () => {
          const rows = await deliveries(eventId);
          return rows.length === 3 && rows.every((r) => r.status === 'delivered') ? rows : undefined;
        },
        90_000,
        `${eventId} delivered on every channel`,
      );

    // 1. In flight: "approval needed" reaches the receiver, which holds it; the orchestrator dies.
    receiver.hold = true;
    const arrivals = receiver.arrivals;
    const job = await submit({ ...slowThenEcho('notify orchestrator crash', 3), policies: { approvalRequired: true } });
    expect(job.approvalRequired).toBe(true);
    const approvalId = `notify-${job.id}-approval_needed-1`;
    await eventually(async () => (receiver.arrivals > arrivals ? true : undefined), 30_000, 'a delivery in flight');
    await killOrchestrator();
    // The held attempt is cut off; Temporal retries it on the executor with no orchestrator running.
    receiver.release();
    await allDelivered(approvalId);
    await restartOrchestrator();
    // The notification's workflow ends once an orchestrator runs it again, every channel delivered.
    const approvalOutcome = (await stack.client.workflow.getHandle(approvalId).result()) as {
      channels: { status: string }[];
    };
    expect(approvalOutcome.channels.map((c) => c.status)).toEqual(['delivered', 'delivered', 'delivered']);

    // 2. Due: the orchestrator dies while the job's slow step runs; the job's end (and its
    // "finished") comes after the restart.
    expect((await control(apiUrl, approver.token, job.id, 'approve', { planHash: job.planHash })).status).toBe(200);
    await eventually(
      async () => {
        const pending = (await stack.client.workflow.getHandle(job.id).describe()).raw.pendingActivities ?? [];
        return pending.some((a) => a.activityType?.name === 'runLocalCommand' && a.state === 2) ? true : undefined;
      },
      30_000,
      'the slow step to run',
    );
    await killOrchestrator();
    const finishedId = `notify-${job.id}-finished-1`;
    await restartOrchestrator();
    await waitStatus(job.id, 'completed', 90_000);
    await allDelivered(finishedId);

    for (const id of [approvalId, finishedId]) {
      expect(webhooksFor(id), id).toHaveLength(1);
      expect(slacksFor(id), id).toHaveLength(1);
      expect(mailsFor(id), id).toHaveLength(1);
    }
    const listed = await notificationsOf(job.id);
    expect(listed.map((n) => `${n.event}/${n.channel}/${n.status}`).sort()).toEqual(
      ['approval_needed', 'finished'].flatMap((e) => ['chat', 'mail', 'web'].map((c) => `${e}/${c}/delivered`)).sort(),
    );
  });

  it('a wrong SMTP password fails for good, with a clear error and no secret on the job', async () => {
    const res = await api('/api/notifications/channels', {
      body: {
        kind: 'email',
        name: 'bad-mail',
        host: '127.0.0.1',
        port: smtp.port,
        username: 'notify',
        password: WRONG_PASSWORD,
        from: 'opsc@example.test',
        to: ['ops@example.test'],
        caPem: smtp.caPem,
      },
    });
    expect(res.status).toBe(201);
    await subscribe([...everyEvent(['web', 'chat', 'mail']), { channel: 'bad-mail', event: 'finished' }]);
    const jobId = await runQuick('notify wrong password');
    const failed = await eventually(
      async () => {
        const bad = (await notificationsOf(jobId)).find((n) => n.channel === 'bad-mail');
        return bad?.status === 'failed' ? bad : undefined;
      },
      60_000,
      'the bad channel to fail',
    );
    expect(failed.attempts).toBe(1);
    expect(failed.error).toContain('refused the user name and password of "notify"');
    expect(JSON.stringify(await notificationsOf(jobId))).not.toContain(WRONG_PASSWORD);
    const good = await eventually(
      async () => {
        const list = (await notificationsOf(jobId)).filter((n) => n.channel !== 'bad-mail');
        return list.length === 3 && list.every((n) => n.status === 'delivered') ? list : undefined;
      },
      30_000,
      'the other channels',
    );
    expect(good).toHaveLength(3);
  });
});

describe("a template's own subscriptions", () => {
  it("override the tenant's for the template's runs only: its channel hears them, the default does not", async () => {
    const team = await api('/api/notifications/channels', {
      body: { kind: 'webhook', name: 'team', url: receiver.url('/team'), secret: SIGNING_SECRET },
    });
    expect(team.status, JSON.stringify(team.body)).toBe(201);
    const created = await api<TemplateDetail>('/api/templates', {
      body: {
        name: 'Notify pause',
        draft: { name: 'pause', steps: [{ id: 'pause', tool: 'wait', params: { seconds: 1 } }] },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const template = expectAnswer(TemplateDetail, created.body, 'POST /api/templates');
    await subscribe([
      ...everyEvent(['web', 'chat', 'mail']),
      ...['finished', 'job_failed'].map((event) => ({ channel: 'team', event, templateId: template.id })),
    ]);
    /** Which channels a job's "finished" went to, by name, once its notification workflow ended. */
    const heardBy = async (jobId: string) => {
      const eventId = `notify-${jobId}-finished-1`;
      const outcome = (await stack.client.workflow.getHandle(eventId).result()) as {
        channels: { channelId: string; status: string }[];
      };
      const { rows } = await stack.pool.query<{ id: string; name: string }>(
        'SELECT id, name FROM notification_channels WHERE id = ANY($1)',
        [outcome.channels.map((c) => c.channelId)],
      );
      const names = new Map(rows.map((r) => [r.id, r.name]));
      return outcome.channels.map((c) => `${names.get(c.channelId)}/${c.status}`).sort();
    };

    const ran = await api<TemplateRun>(`/api/templates/${template.id}/run`, { body: { params: {} } });
    expect(ran.status, JSON.stringify(ran.body)).toBe(201);
    const run = expectAnswer(TemplateRun, ran.body, 'POST /api/templates/:id/run');
    expect(run.job.approvalRequired).toBe(false);
    await waitStatus(run.job.id, 'completed');
    const fromTemplate = `notify-${run.job.id}-finished-1`;
    expect(await heardBy(run.job.id)).toEqual(['team/delivered']);
    expect(receiver.answered.filter((r) => r.path === '/team' && r.eventId === fromTemplate)).toHaveLength(1);
    expect(webhooksFor(fromTemplate)).toEqual([]);
    expect(slacksFor(fromTemplate)).toEqual([]);
    expect(mailsFor(fromTemplate)).toEqual([]);
    expect((await notificationsOf(run.job.id)).map((n) => `${n.event}/${n.channel}/${n.status}`)).toEqual([
      'finished/team/delivered',
    ]);

    // A job submitted by hand keeps the tenant's default.
    const manual = await runQuick('notify by hand');
    expect(await heardBy(manual)).toEqual(['chat/delivered', 'mail/delivered', 'web/delivered']);
    const byHand = `notify-${manual}-finished-1`;
    expect(receiver.answered.filter((r) => r.path === '/team' && r.eventId === byHand)).toEqual([]);
    expect(webhooksFor(byHand)).toHaveLength(1);
  });
});

describe('a notification workflow started straight in Temporal', () => {
  it('is refused by the executor: an event the job did not have, a test nobody asked for, another id', async () => {
    const jobId = await runQuick('notify forged');
    const run = (type: string, workflowId: string, args: unknown) =>
      stack.client.workflow.execute(type, { taskQueue: TaskQueue.orchestrator, workflowId, args: [args] }) as Promise<{
        channels: { status: string; error?: string }[];
      }>;
    const failedJob = await run('notifyJob', `notify-${jobId}-job_failed-1`, { jobId, event: 'job_failed', n: 1 });
    expect(failedJob.channels.length).toBeGreaterThan(0);
    for (const c of failedJob.channels) {
      expect(c.status).toBe('failed');
      expect(c.error).toContain('the job ended completed, not failed');
    }
    const asked = randomUUID();
    const channelId = (
      await stack.pool.query<{ id: string }>("SELECT id FROM notification_channels WHERE name = 'web'")
    ).rows[0]!.id;
    const test = await run('notifyTest', `notify-test-${asked}`, { testId: asked, channelId });
    expect(test.channels[0]).toMatchObject({
      status: 'failed',
      error: expect.stringContaining(`no test ${asked} was asked for`),
    });
    const other = await run('notifyTest', `notify-test-${randomUUID()}`, { testId: asked, channelId });
    expect(other.channels[0]!.error).toContain('not from notifyTest');
    // Nothing of the forged ones reached a receiver (the job's own "finished" may arrive meanwhile).
    const forged = [`notify-${jobId}-job_failed-1`, `notify-test-${asked}`];
    expect(receiver.answered.filter((r) => forged.some((id) => JSON.stringify(r.body).includes(id)))).toEqual([]);
    expect(smtp.mails.filter((m) => forged.some((id) => m.data.includes(id)))).toEqual([]);
  });
});

describe('a vault key rotation', () => {
  const sealedSecrets = async () =>
    (
      await stack.pool.query<{ name: string; tenant_id: string; channel_id: string; key_id: string; sealed: unknown }>(
        `SELECT c.name, c.tenant_id, s.channel_id, s.key_id, s.sealed
           FROM notification_channel_secrets s JOIN notification_channels c ON c.id = s.channel_id ORDER BY c.name`,
      )
    ).rows;
  const opens = (keyring: Keyring, row: Awaited<ReturnType<typeof sealedSecrets>>[number]) =>
    JSON.parse(
      openSecret(SealedSecret.parse(row.sealed), keyring, notificationContext(row.tenant_id, row.channel_id)),
    ) as Record<string, unknown>;
  const publishedKeys = async () =>
    (await stack.pool.query('SELECT key_id, retired_at IS NOT NULL AS retired FROM vault_keys ORDER BY created_at'))
      .rows;

  it("re-wraps the channels' secrets with the credentials', all or nothing; deliveries work with the new key alone", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-rotate-notify-'));
    const newKeyFile = path.join(dir, 'next.pem');
    const cli = vaultCli(stack);
    expect((await cli(['generate-key', newKeyFile])).status).toBe(0);
    const nextPem = readFileSync(newKeyFile, 'utf8');
    registerTestSecrets(
      'the rotated vault key of notifications.test',
      nextPem.split('\n').filter((l) => l && !l.startsWith('-----')),
    );
    const next = createKeyring([nextPem]);
    const old = createKeyring([readFileSync(stack.vaultKeyFile, 'utf8')]);
    const keysBefore = await publishedKeys();
    expect(keysBefore).toEqual([{ key_id: old.current.keyId, retired: false }]);

    // A channel whose sealed secret cannot be opened (another channel's, bound to that one's id):
    // the rotation fails as a whole, nothing re-wrapped, no key retired.
    const spare = await api('/api/notifications/channels', {
      body: {
        kind: 'webhook',
        name: 'spare',
        url: receiver.url('/spare'),
        secret: `spare-${randomBytes(8).toString('hex')}`,
      },
    });
    expect(spare.status, JSON.stringify(spare.body)).toBe(201);
    await stack.pool.query(
      `UPDATE notification_channel_secrets SET sealed = (SELECT s.sealed FROM notification_channel_secrets s
          JOIN notification_channels c ON c.id = s.channel_id WHERE c.name = 'web')
        WHERE channel_id = (SELECT id FROM notification_channels WHERE name = 'spare')`,
    );
    const before = await sealedSecrets();
    const failed = await cli(['rotate', '--new-key-file', newKeyFile]);
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain('spare');
    expect(await publishedKeys()).toEqual(keysBefore);
    expect(await sealedSecrets()).toEqual(before);
    expect((await stack.pool.query(`SELECT 1 FROM audit_log WHERE action = 'vault.rotate'`)).rowCount).toBe(0);

    expect((await api('/api/notifications/channels/spare', { method: 'DELETE' })).status).toBe(204);
    const rotated = await cli(['rotate', '--new-key-file', newKeyFile]);
    expect(rotated.status, rotated.stderr).toBe(0);
    const channels = await sealedSecrets();
    expect(channels.map((c) => c.name)).toEqual(before.map((c) => c.name).filter((n) => n !== 'spare'));
    expect(rotated.stdout).toContain(`${channels.length} secrets re-wrapped`);
    expect(await publishedKeys()).toEqual([
      { key_id: old.current.keyId, retired: true },
      { key_id: next.current.keyId, retired: false },
    ]);
    for (const row of channels) {
      expect(row.key_id, row.name).toBe(next.current.keyId);
      expect(() => opens(old, row), row.name).toThrow();
    }
    expect(
      opens(
        next,
        channels.find((c) => c.name === 'web')!,
      ),
    ).toMatchObject({ secret: SIGNING_SECRET });
    expect(
      opens(
        next,
        channels.find((c) => c.name === 'mail')!,
      ),
    ).toMatchObject({ password: SMTP_PASSWORD });

    // An executor holding the new key alone delivers on every channel.
    await executor.service.stop();
    executor = await stack.startExecutor({ OPSC_VAULT_KEY_FILE: newKeyFile });
    for (const name of ['web', 'chat', 'mail']) {
      const { status, body } = await api<NotificationTestAnswer>(`/api/notifications/channels/${name}/test`, {
        body: {},
      });
      expect(status).toBe(200);
      expect(expectAnswer(NotificationTestAnswer, body, 'POST .../test'), name).toMatchObject({
        status: 'delivered',
        error: null,
      });
    }
  });
});
