import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import {
  ErrorType,
  InventoryName,
  NotificationChannelInput,
  TaskQueue,
  notificationContext,
  splitChannelInput,
  testNotificationId,
  type NotifyTestInput,
} from '@opsc/contracts';
import {
  NotificationSubscriptions,
  type JobNotificationList,
  type JobNotificationView,
  type NotificationChannelAnswer,
  type NotificationChannelList,
  type NotificationChannelView,
  type NotificationTestAnswer,
  type Sent,
} from '@opsc/contracts/api';
import { sealSecret, sealedFingerprint } from '@opsc/contracts/sealing';
import { recordAudit } from '../audit.js';
import { inTransaction } from '../db.js';
import { withTimeout } from '../with-timeout.js';
import { principalOf, requireRole } from './auth.js';
import { currentVaultKey } from './credential-routes.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';

/** How long "send a test" waits for the executor's answer before saying it is still being tried. */
const TEST_WAIT_MS = 20_000;

const listChannels = async (deps: ApiDeps, tenantId: string, name?: string): Promise<NotificationChannelView[]> =>
  (
    await deps.pool.query<NotificationChannelView>(
      `SELECT c.name, c.kind, c.config || jsonb_build_object('kind', c.kind) AS config, c.fingerprint, s.key_id AS "keyId",
              c.created_by AS "createdBy", to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt",
              coalesce((SELECT array_agg(n.event ORDER BY n.event) FROM notification_subscriptions n
                         WHERE n.channel_id = c.id AND n.template_id IS NULL), '{}') AS events
         FROM notification_channels c JOIN notification_channel_secrets s ON s.channel_id = c.id
        WHERE c.tenant_id = $1 AND ($2::text IS NULL OR c.name = $2) ORDER BY c.name`,
      [tenantId, name ?? null],
    )
  ).rows;

const channelNamed = async (deps: ApiDeps, tenantId: string, raw: unknown): Promise<{ id: string; name: string }> => {
  const name = InventoryName.safeParse(raw).data;
  const { rows } = await deps.pool.query<{ id: string; name: string }>(
    'SELECT id, name FROM notification_channels WHERE tenant_id = $1 AND name = $2',
    [tenantId, name ?? ''],
  );
  if (!rows[0])
    throw new ApiFailure(ErrorType.NotFound, `no notification channel named "${String(raw).slice(0, 100)}"`);
  return rows[0];
};

const readSubscriptions = async (deps: ApiDeps, tenantId: string): Promise<Sent<NotificationSubscriptions>> => {
  const { rows } = await deps.pool.query<{ channel: string; event: string; template_id: string | null }>(
    `SELECT c.name AS channel, s.event, s.template_id FROM notification_subscriptions s
       JOIN notification_channels c ON c.id = s.channel_id
      WHERE s.tenant_id = $1 ORDER BY c.name, s.template_id NULLS FIRST, s.event`,
    [tenantId],
  );
  return {
    subscriptions: rows.map((r) => ({
      channel: r.channel,
      event: r.event as NotificationSubscriptions['subscriptions'][number]['event'],
      templateId: r.template_id,
    })),
  };
};

/**
 * A tenant's notification channels and subscriptions (admins only: settings name receivers and
 * mailboxes). Secrets are write-only, as credentials are: sealed for the vault's public key on
 * arrival, never read back, logged or answered. Every change is audited.
 */
export const notificationsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.use(requireRole('admin'));

  router.get('/channels', async (_req, res) => {
    res.json({ channels: await listChannels(deps, principalOf(res).tenantId) } satisfies Sent<NotificationChannelList>);
  });

  const save = (mode: 'create' | 'replace') => async (req: Request, res: Response) => {
    const principal = principalOf(res);
    const input = parseBody(NotificationChannelInput, req);
    if (mode === 'replace' && input.name !== req.params.name)
      throw new ApiFailure(ErrorType.ValidationFailed, 'the body names another channel', [
        { path: 'name', message: `must be "${String(req.params.name).slice(0, 100)}"` },
      ]);
    const { config, secret } = splitChannelInput(input);
    const vaultKey = await currentVaultKey(deps);
    const created = await inTransaction(deps.pool, async (db) => {
      const existing = await db.query<{ id: string }>(
        'SELECT id FROM notification_channels WHERE tenant_id = $1 AND name = $2 FOR UPDATE',
        [principal.tenantId, input.name],
      );
      const current = existing.rows[0];
      if (current && mode === 'create')
        throw new ApiFailure(ErrorType.Conflict, `a notification channel named "${input.name}" exists`, [
          { path: 'name', message: 'is taken' },
        ]);
      if (!current && mode === 'replace')
        throw new ApiFailure(ErrorType.NotFound, `no notification channel named "${input.name}"`);
      const id = current?.id ?? randomUUID();
      const sealed = sealSecret(JSON.stringify(secret), vaultKey, notificationContext(principal.tenantId, id));
      const { kind, ...settings } = config;
      await db.query(
        `INSERT INTO notification_channels (id, tenant_id, name, kind, config, fingerprint, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, config = EXCLUDED.config, fingerprint = EXCLUDED.fingerprint, updated_at = now()`,
        [
          id,
          principal.tenantId,
          input.name,
          kind,
          JSON.stringify(settings),
          sealedFingerprint(sealed),
          principal.username,
        ],
      );
      await db.query('DELETE FROM notification_channel_secrets WHERE channel_id = $1', [id]);
      await db.query('INSERT INTO notification_channel_secrets (channel_id, key_id, sealed) VALUES ($1, $2, $3)', [
        id,
        sealed.keyId,
        JSON.stringify(sealed),
      ]);
      await recordAudit(db, {
        tenantId: principal.tenantId,
        actor: principal.username,
        action: current ? 'notification-channel.replace' : 'notification-channel.create',
        objectType: 'notification-channel',
        objectId: input.name,
        sourceIp: req.ip,
        details: { kind },
      });
      return !current;
    });
    const [channel] = await listChannels(deps, principal.tenantId, input.name);
    if (!channel) throw new ApiFailure(ErrorType.Conflict, 'the channel was deleted while it was saved');
    res.status(created ? 201 : 200).json({ channel } satisfies Sent<NotificationChannelAnswer>);
  };
  router.post('/channels', save('create'));
  router.put('/channels/:name', save('replace'));

  router.delete('/channels/:name', async (req, res) => {
    const principal = principalOf(res);
    const channel = await channelNamed(deps, principal.tenantId, req.params.name);
    await inTransaction(deps.pool, async (db) => {
      await db.query('DELETE FROM notification_channels WHERE id = $1', [channel.id]);
      await recordAudit(db, {
        tenantId: principal.tenantId,
        actor: principal.username,
        action: 'notification-channel.delete',
        objectType: 'notification-channel',
        objectId: channel.name,
        sourceIp: req.ip,
      });
    });
    res.status(204).end();
  });

  // The test is on record before its workflow starts: the executor sends only what is on record.
  router.post('/channels/:name/test', async (req, res) => {
    const principal = principalOf(res);
    const channel = await channelNamed(deps, principal.tenantId, req.params.name);
    const testId = randomUUID();
    await inTransaction(deps.pool, async (db) => {
      await db.query(
        'INSERT INTO notification_tests (id, tenant_id, channel_id, requested_by) VALUES ($1, $2, $3, $4)',
        [testId, principal.tenantId, channel.id, principal.username],
      );
      await recordAudit(db, {
        tenantId: principal.tenantId,
        actor: principal.username,
        action: 'notification-channel.test',
        objectType: 'notification-channel',
        objectId: channel.name,
        sourceIp: req.ip,
        details: { testId },
      });
    });
    const eventId = testNotificationId(testId);
    const handle = await deps.client.workflow.start('notifyTest', {
      taskQueue: TaskQueue.orchestrator,
      workflowId: eventId,
      args: [{ testId, channelId: channel.id } satisfies NotifyTestInput],
    });
    let answer: NotificationTestAnswer;
    try {
      const outcome = (await withTimeout(handle.result(), TEST_WAIT_MS, 'the test notification')) as {
        channels: { status: string; error?: string }[];
      };
      const first = outcome.channels[0];
      answer =
        first && first.status !== 'failed'
          ? { eventId, status: 'delivered', error: null }
          : { eventId, status: 'failed', error: first?.error ?? 'not delivered' };
    } catch {
      // Still being tried (a receiver down, the executor busy): the delivery goes on with its retries.
      const { rows } = await deps.pool.query<{ last_error: string | null }>(
        'SELECT last_error FROM notification_deliveries WHERE event_id = $1',
        [eventId],
      );
      answer = { eventId, status: 'pending', error: rows[0]?.last_error ?? null };
    }
    res.json(answer);
  });

  router.get('/subscriptions', async (_req, res) => {
    res.json(await readSubscriptions(deps, principalOf(res).tenantId));
  });

  router.put('/subscriptions', async (req, res) => {
    const principal = principalOf(res);
    const { subscriptions } = parseBody(NotificationSubscriptions, req);
    await inTransaction(deps.pool, async (db) => {
      const { rows } = await db.query<{ id: string; name: string }>(
        'SELECT id, name FROM notification_channels WHERE tenant_id = $1 FOR SHARE',
        [principal.tenantId],
      );
      const ids = new Map(rows.map((r) => [r.name, r.id]));
      const issues = subscriptions.flatMap((s, i) =>
        ids.has(s.channel)
          ? []
          : [{ path: `subscriptions.${i}.channel`, message: `no notification channel named "${s.channel}"` }],
      );
      if (issues.length) throw new ApiFailure(ErrorType.ValidationFailed, 'unknown channel', issues);
      await db.query('DELETE FROM notification_subscriptions WHERE tenant_id = $1', [principal.tenantId]);
      for (const s of subscriptions)
        await db.query(
          `INSERT INTO notification_subscriptions (tenant_id, channel_id, event, template_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [principal.tenantId, ids.get(s.channel), s.event, s.templateId],
        );
      await recordAudit(db, {
        tenantId: principal.tenantId,
        actor: principal.username,
        action: 'notification-subscriptions.replace',
        objectType: 'notification-subscriptions',
        objectId: principal.tenantId,
        sourceIp: req.ip,
        details: { count: subscriptions.length },
      });
    });
    res.json(await readSubscriptions(deps, principal.tenantId));
  });

  return router;
};

/** `GET /api/jobs/:id/notifications`: the job's deliveries per channel (the tenant's jobs only). */
export const jobNotifications = (deps: ApiDeps) => async (req: Request, res: Response) => {
  const principal = principalOf(res);
  const { rows: jobs } = await deps.pool.query('SELECT 1 FROM jobs WHERE id = $1 AND tenant_id = $2', [
    String(req.params.id),
    principal.tenantId,
  ]);
  if (!jobs.length) throw new ApiFailure(ErrorType.NotFound, `no job ${String(req.params.id).slice(0, 100)}`);
  const { rows } = await deps.pool.query<Sent<JobNotificationView>>(
    `SELECT d.event_id AS "eventId", d.event, c.name AS channel, c.kind, d.status, d.attempts, d.last_error AS error,
            to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt",
            to_char(d.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "deliveredAt"
       FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
      WHERE d.job_id = $1 AND d.tenant_id = $2 ORDER BY d.created_at, c.name`,
    [String(req.params.id), principal.tenantId],
  );
  res.json({ notifications: rows } satisfies Sent<JobNotificationList>);
};
