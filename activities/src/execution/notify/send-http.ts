import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, WebhookHeader, urlPort, type NotificationPayload } from '@opsc/contracts';
import type { EgressGuard } from '../egress/egress-guard.js';
import { requestAddress } from '../egress/guarded-http.js';
import { UNREACHABLE_CODES } from '../network-errors.js';

const TIMEOUT_MS = 15_000;
const TLS_CONFIG_CODES =
  /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID)/;

/** The signature a receiver recomputes: HMAC-SHA256 over `<timestamp>.<body>`, hex, as `v1=<hex>`. */
export const signWebhook = (secret: string, timestamp: string, body: string): string =>
  `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/**
 * POSTs JSON to a receiver through the egress policy (to the address it judged). `what` names the
 * receiver in errors: never the URL, which for Slack is the secret itself.
 */
const postJson = async (
  egress: EgressGuard,
  scope: { jobId: string; tenantId: string },
  url: URL,
  body: string,
  headers: Record<string, string>,
  what: string,
): Promise<void> => {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw ApplicationFailure.nonRetryable(`${what}: http and https only`, ErrorType.ValidationFailed);
  const [address] = await egress.resolve(scope, url.hostname, urlPort(url));
  let status: number;
  try {
    const answer = await requestAddress({
      url,
      address: address!,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'OpsConductor-Notify/1', ...headers },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      capBytes: 4096,
    });
    status = answer.status;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
    if (TLS_CONFIG_CODES.test(code))
      throw ApplicationFailure.nonRetryable(
        `${what}: its TLS certificate is not trusted (${code})`,
        ErrorType.AuthFailed,
      );
    if (UNREACHABLE_CODES.has(code))
      throw ApplicationFailure.retryable(`${what} is unreachable (${code})`, ErrorType.HostUnreachable);
    throw ApplicationFailure.retryable(`${what}: the request failed (${code})`, ErrorType.ConnectionLost);
  }
  if (status >= 200 && status < 300) return;
  // A receiver that is busy or broken for now gets the notification later; one that refuses it does not.
  if (status === 408 || status === 429 || status >= 500)
    throw ApplicationFailure.retryable(`${what} answered ${status}`, ErrorType.UnexpectedStatus);
  throw ApplicationFailure.nonRetryable(
    `${what} refused the notification (HTTP ${status})`,
    ErrorType.UnexpectedStatus,
  );
};

export const sendWebhook = async (
  egress: EgressGuard,
  tenantId: string,
  target: { url: string; secret: string },
  payload: NotificationPayload,
): Promise<void> => {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const url = new URL(target.url);
  await postJson(
    egress,
    { jobId: payload.id, tenantId },
    url,
    body,
    {
      [WebhookHeader.timestamp]: timestamp,
      [WebhookHeader.signature]: signWebhook(target.secret, timestamp, body),
      [WebhookHeader.eventId]: payload.id,
    },
    `the webhook at ${url.host}`,
  );
};

/** Slack's incoming-webhook body: `text` (notifications, fallbacks) and Block Kit blocks. */
export const slackBody = (payload: NotificationPayload) => ({
  text: payload.text,
  blocks: [
    { type: 'section', text: { type: 'mrkdwn', text: payload.text } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `OpsConductor · ${payload.tenant} · ${payload.event} · ${payload.id}` }],
    },
  ],
});

export const sendSlack = async (
  egress: EgressGuard,
  tenantId: string,
  secretUrl: string,
  payload: NotificationPayload,
): Promise<void> => {
  let url: URL;
  try {
    url = new URL(secretUrl);
  } catch {
    throw ApplicationFailure.nonRetryable('the Slack webhook URL does not parse', ErrorType.ValidationFailed);
  }
  await postJson(
    egress,
    { jobId: payload.id, tenantId },
    url,
    JSON.stringify(slackBody(payload)),
    {},
    'the Slack webhook',
  );
};
