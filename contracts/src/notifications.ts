/*
 * Notifications: a tenant's channels (generic signed webhook, Slack-compatible incoming webhook,
 * e-mail over SMTP) and the job events they hear. Each channel's secret is sealed for the vault on
 * arrival (see sealing.ts) and opened by the executor only, for the delivery at hand.
 */
import { z } from 'zod';
import { InventoryName } from './inventory.js';

/** What a job tells its channels about. */
export const NotificationEvent = z.enum([
  'approval_needed',
  'awaiting_decision',
  'job_failed',
  'rolled_back',
  'finished',
]);
export type NotificationEvent = z.infer<typeof NotificationEvent>;
export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = NotificationEvent.options;

export const NotificationChannelKind = z.enum(['webhook', 'slack', 'email']);
export type NotificationChannelKind = z.infer<typeof NotificationChannelKind>;

const webUrl = z
  .string()
  .max(2000)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without user or password');

const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:-]+$/, { message: 'must be a host name or an IP address' });

/** An address as SMTP accepts it: no spaces, quotes, angle brackets or line breaks (no header injection). */
const mailbox = z
  .string()
  .max(254)
  .regex(/^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, {
    message: 'must be an e-mail address (local@domain)',
  });

const pem = z
  .string()
  .max(20_000)
  .regex(/^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/, {
    message: 'must be one PEM certificate (-----BEGIN CERTIFICATE----- ...)',
  });

/** A generic webhook: a JSON POST, signed with HMAC-SHA256 over `<timestamp>.<body>` with `secret`. */
export const WebhookChannelInput = z.strictObject({
  kind: z.literal('webhook'),
  name: InventoryName,
  url: webUrl,
  /** The signing secret: sealed on arrival, never answered. */
  secret: z.string().min(16, 'must be at least 16 characters').max(256),
});

/** A Slack-compatible incoming webhook; its URL is the secret (anyone holding it can post). */
export const SlackChannelInput = z.strictObject({
  kind: z.literal('slack'),
  name: InventoryName,
  /** Sealed on arrival, never answered. */
  url: webUrl,
});

/** E-mail over SMTP: STARTTLS on the submission port unless `tls: 'implicit'` (SMTPS); always authenticated. */
export const EmailChannelInput = z.strictObject({
  kind: z.literal('email'),
  name: InventoryName,
  host: hostName,
  port: z.number().int().min(1).max(65535).default(587),
  /** `starttls`: the session must upgrade before AUTH (refused otherwise); `implicit`: TLS from the first byte. */
  tls: z.enum(['starttls', 'implicit']).default('starttls'),
  username: z.string().min(1).max(256),
  /** Sealed on arrival, never answered. */
  password: z.string().min(1).max(1024),
  from: mailbox,
  to: z.array(mailbox).min(1).max(20),
  /** A CA certificate to trust for this server (self-signed or private CA), besides the system's. */
  caPem: pem.optional(),
});

export const NotificationChannelInput = z.discriminatedUnion('kind', [
  WebhookChannelInput,
  SlackChannelInput,
  EmailChannelInput,
]);
export type NotificationChannelInput = z.infer<typeof NotificationChannelInput>;

/** A channel's settings as stored and shown: everything but its secret. */
export const NotificationChannelConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('webhook'), url: z.string() }),
  z.object({ kind: z.literal('slack') }),
  z.object({
    kind: z.literal('email'),
    host: z.string(),
    port: z.number().int(),
    tls: z.enum(['starttls', 'implicit']),
    username: z.string(),
    from: z.string(),
    to: z.array(z.string()),
    caPem: z.string().optional(),
  }),
]);
export type NotificationChannelConfig = z.infer<typeof NotificationChannelConfig>;

/** What is sealed for the vault: the channel's one secret. */
export const NotificationSecret = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('webhook'), secret: z.string() }),
  z.strictObject({ kind: z.literal('slack'), url: z.string() }),
  z.strictObject({ kind: z.literal('email'), password: z.string() }),
]);
export type NotificationSecret = z.infer<typeof NotificationSecret>;

/** Splits an input into what is stored in the clear and what is sealed. */
export const splitChannelInput = (
  input: NotificationChannelInput,
): { config: NotificationChannelConfig; secret: NotificationSecret } => {
  switch (input.kind) {
    case 'webhook':
      return { config: { kind: 'webhook', url: input.url }, secret: { kind: 'webhook', secret: input.secret } };
    case 'slack':
      return { config: { kind: 'slack' }, secret: { kind: 'slack', url: input.url } };
    case 'email': {
      const { password, name: _name, ...config } = input;
      return { config, secret: { kind: 'email', password } };
    }
  }
};

/** Associated data binding a sealed channel secret to its channel (see sealing.ts). */
export const notificationContext = (tenantId: string, channelId: string): string =>
  `opsc-notification-channel/${tenantId}/${channelId}`;

/** The id every channel of one notification shares, for receiver-side de-duplication; also its workflow's id. */
export const notificationEventId = (jobId: string, event: NotificationEvent, n: number): string =>
  `notify-${jobId}-${event}-${n}`;
export const testNotificationId = (testId: string): string => `notify-test-${testId}`;

/** The webhook signature headers: `X-Opsc-Timestamp` (Unix seconds) and `X-Opsc-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export const WebhookHeader = {
  timestamp: 'x-opsc-timestamp',
  signature: 'x-opsc-signature',
  eventId: 'x-opsc-event-id',
} as const;

/** What a generic webhook receives (the JSON body) and what the Slack and e-mail texts are made of. */
export interface NotificationPayload {
  /** Same for every channel and every retry of one notification. */
  id: string;
  event: NotificationEvent | 'test';
  occurredAt: string;
  tenant: string;
  job: {
    id: string;
    name: string;
    status: string;
    requestedBy: string;
    targets?: { total: number; completed: number; failed: number; rolledBack: number };
    error?: string;
  } | null;
  text: string;
}
