import { z } from 'zod';
import { toFieldIssues, type FieldIssue } from '@opsc/contracts';
import { sha256Hex } from './trigger-secret.js';

/*
 * Prometheus Alertmanager's webhook (version 4): one notification per alert group, sent again at each
 * repeat_interval while it fires, with the group's alerts (firing and, with send_resolved, resolved).
 */

const Labels = z.record(z.string(), z.string());

const Alert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: Labels,
  annotations: Labels.default({}),
  startsAt: z.string().max(100),
  endsAt: z.string().max(100).optional(),
  fingerprint: z.string().min(1).max(100),
});

export const AlertmanagerNotification = z.looseObject({
  version: z.literal('4', { message: 'only the version 4 webhook format is understood' }),
  groupKey: z.string().min(1).max(10_000),
  status: z.enum(['firing', 'resolved']),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Labels.default({}),
  alerts: z.array(Alert).min(1).max(10_000),
});
export type AlertmanagerNotification = z.infer<typeof AlertmanagerNotification>;

export type ReadNotification =
  | {
      status: 'firing' | 'resolved';
      /** What the mapping reads: the notification, its `alerts` narrowed to those of its status. */
      view: Record<string, unknown>;
      /** The group and its alerts of that status (fingerprint and start): a repeat has the same key. */
      key: string;
    }
  | { issues: FieldIssue[] };

/**
 * Reads a notification. The firing set is the alerts firing now, each by its fingerprint and the
 * time it started firing: a repeat notification of the same firing set has the same key, an alert
 * that resolved and fired again (a new start) makes a new one.
 */
export const readNotification = (payload: unknown): ReadNotification => {
  const parsed = AlertmanagerNotification.safeParse(payload);
  if (!parsed.success) return { issues: toFieldIssues(parsed.error).map((i) => ({ ...i, path: `body.${i.path}` })) };
  const n = parsed.data;
  const alerts = n.alerts.filter((a) => a.status === n.status);
  const set = alerts.map((a) => `${a.fingerprint}@${a.startsAt}`).sort();
  return {
    status: n.status,
    view: { ...n, alerts },
    key: sha256Hex(JSON.stringify([n.status, n.groupKey, set])),
  };
};
