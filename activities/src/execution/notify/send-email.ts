import { rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createTransport } from 'nodemailer';
import { ErrorType, WebhookHeader, type NotificationChannelConfig, type NotificationPayload } from '@opsc/contracts';
import type { EgressGuard } from '../egress/egress-guard.js';

type EmailConfig = Extract<NotificationChannelConfig, { kind: 'email' }>;

const CERT_PROBLEM = /certificate|self[- ]signed|CERT_|UNABLE_TO_|ALTNAME/i;

/**
 * Why a send failed, as a failure without the password: an authentication refusal, a certificate
 * the channel does not trust or a permanent (5xx) refusal fail for good; a server that is down or
 * busy (connection errors, 4xx) is tried again.
 */
const classify = (err: unknown, config: EmailConfig, password: string): ApplicationFailure => {
  const e = err as Error & { code?: string; responseCode?: number; command?: string };
  const server = `the SMTP server ${config.host}:${config.port}`;
  // Nodemailer's messages quote the server's replies; the password is taken out whatever they say.
  const said = (e.message || String(err)).split(password).join('[redacted]').slice(0, 300);
  if (e.code === 'EAUTH')
    return ApplicationFailure.nonRetryable(
      `${server} refused the user name and password of "${config.username}" (${e.responseCode ?? 'AUTH failed'})`,
      ErrorType.AuthFailed,
    );
  if (CERT_PROBLEM.test(said))
    return ApplicationFailure.nonRetryable(`${server}: TLS certificate not trusted (${said})`, ErrorType.AuthFailed);
  if (e.code === 'ETLS' && e.responseCode !== undefined && e.responseCode >= 500)
    return ApplicationFailure.nonRetryable(
      `${server} does not do STARTTLS, which this channel requires (${said})`,
      ErrorType.ValidationFailed,
    );
  if (e.responseCode !== undefined && e.responseCode >= 500)
    return ApplicationFailure.nonRetryable(`${server} refused the message: ${said}`, ErrorType.UnexpectedStatus);
  if (e.code === 'ECONNECTION' || e.code === 'ETIMEDOUT' || e.code === 'ESOCKET' || e.code === 'EDNS')
    return ApplicationFailure.retryable(`${server} is unreachable: ${said}`, ErrorType.HostUnreachable);
  return ApplicationFailure.retryable(`${server}: ${said}`, ErrorType.ConnectionLost);
};

/** Sends one notification by mail: authenticated, over TLS (STARTTLS required unless implicit TLS). */
export const sendEmail = async (
  egress: EgressGuard,
  tenantId: string,
  config: EmailConfig,
  password: string,
  payload: NotificationPayload,
): Promise<void> => {
  // The policy judges the server's addresses; the connection goes to the judged one, TLS checks the name.
  const [address] = await egress.resolve({ jobId: payload.id, tenantId }, config.host, config.port);
  const named = isIP(config.host.replace(/^\[|\]$/g, '')) === 0;
  const transport = createTransport({
    host: address!.address,
    port: config.port,
    secure: config.tls === 'implicit',
    requireTLS: config.tls === 'starttls',
    auth: { user: config.username, pass: password },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    logger: false,
    debug: false,
    tls: {
      ...(named && { servername: config.host }),
      minVersion: 'TLSv1.2',
      ...(config.caPem && { ca: [...rootCertificates, config.caPem] }),
    },
  });
  try {
    await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: `[OpsConductor] ${payload.text}`.slice(0, 200),
      text: `${payload.text}\n\nEvent: ${payload.event}\nEvent id: ${payload.id}\nTenant: ${payload.tenant}\n`,
      // The same id on every retry: a mail system (or a reader) sees one message, whatever the retries.
      messageId: `<${payload.id}@opsconductor.invalid>`,
      headers: { [WebhookHeader.eventId]: payload.id },
    });
  } catch (err) {
    throw classify(err, config, password);
  } finally {
    transport.close();
  }
};
