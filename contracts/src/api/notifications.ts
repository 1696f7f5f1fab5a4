import { z } from 'zod';
import { InventoryName } from '../inventory.js';
import { NotificationChannelConfig, NotificationChannelKind, NotificationEvent } from '../notifications.js';
import { Timestamp } from './common.js';

// Requests take `NotificationChannelInput` (its secret is sealed on arrival and never answered).

/** What the API shows of a channel: its settings and a fingerprint of the sealed secret, never the secret. */
export const NotificationChannelView = z.object({
  name: z.string(),
  kind: NotificationChannelKind,
  config: NotificationChannelConfig,
  /** The events the channel hears for every job of the tenant (template overrides are in the subscriptions). */
  events: z.array(NotificationEvent),
  fingerprint: z.string(),
  keyId: z.string(),
  createdBy: z.string(),
  updatedAt: Timestamp,
});
export type NotificationChannelView = z.infer<typeof NotificationChannelView>;

export const NotificationChannelList = z.object({ channels: z.array(NotificationChannelView) });
export type NotificationChannelList = z.infer<typeof NotificationChannelList>;
export const NotificationChannelAnswer = z.object({ channel: NotificationChannelView });
export type NotificationChannelAnswer = z.infer<typeof NotificationChannelAnswer>;

/** One subscription: a channel hears an event, for every job (`templateId` null) or for a template's jobs only (overriding the default). */
export const NotificationSubscription = z.strictObject({
  channel: InventoryName,
  event: NotificationEvent,
  templateId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, { message: 'letters, digits and . _ : -, up to 100' })
    .nullable()
    .default(null),
});
export type NotificationSubscription = z.infer<typeof NotificationSubscription>;

/** The tenant's subscriptions, replaced whole. */
export const NotificationSubscriptions = z.strictObject({
  subscriptions: z.array(NotificationSubscription).max(1000),
});
export type NotificationSubscriptions = z.infer<typeof NotificationSubscriptions>;

/** The answer to "send a test notification": delivered, failed (why, never a secret), or still being tried. */
export const NotificationTestAnswer = z.object({
  eventId: z.string(),
  status: z.enum(['delivered', 'failed', 'pending']),
  error: z.string().nullable(),
});
export type NotificationTestAnswer = z.infer<typeof NotificationTestAnswer>;

/** One notification of a job to one channel, as the executor recorded its delivery. */
export const JobNotificationView = z.object({
  eventId: z.string(),
  event: NotificationEvent,
  channel: z.string(),
  kind: NotificationChannelKind,
  status: z.enum(['sending', 'retrying', 'delivered', 'failed']),
  attempts: z.number().int(),
  /** Why the last attempt failed (no secret is ever in it). */
  error: z.string().nullable(),
  updatedAt: Timestamp,
  deliveredAt: Timestamp.nullable(),
});
export type JobNotificationView = z.infer<typeof JobNotificationView>;
export const JobNotificationList = z.object({ notifications: z.array(JobNotificationView) });
export type JobNotificationList = z.infer<typeof JobNotificationList>;
