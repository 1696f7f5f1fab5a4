import { describe, expect, it } from 'vitest';
import { NotificationChannelInput, splitChannelInput } from './notifications.js';

const email = {
  kind: 'email',
  name: 'ops-mail',
  host: 'smtp.example.com',
  username: 'opsc',
  password: 'hunter2-but-longer',
  from: 'opsc@example.com',
  to: ['oncall@example.com'],
};

describe('notification channel input', () => {
  it('defaults e-mail to STARTTLS on the submission port', () => {
    expect(NotificationChannelInput.parse(email)).toMatchObject({ port: 587, tls: 'starttls' });
  });

  it('refuses what could inject a header or hide a secret in the clear, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...email, to: ['a@example.com\r\nBcc: x@evil.test'] }, 'to.0'],
      [{ ...email, from: 'Ops <opsc@example.com>' }, 'from'],
      [{ ...email, host: 'smtp.example.com\nRCPT' }, 'host'],
      [{ ...email, caPem: 'not a certificate' }, 'caPem'],
      [{ kind: 'webhook', name: 'h', url: 'https://user:pw@hooks.example.com/x', secret: 'x'.repeat(16) }, 'url'],
      [{ kind: 'webhook', name: 'h', url: 'ftp://hooks.example.com/x', secret: 'x'.repeat(16) }, 'url'],
      [{ kind: 'webhook', name: 'h', url: 'https://hooks.example.com/x', secret: 'short' }, 'secret'],
      [{ kind: 'slack', name: 'h', url: 'https://hooks.slack.com/x', extra: 1 }, ''],
    ];
    for (const [input, path] of cases) {
      const parsed = NotificationChannelInput.safeParse(input);
      expect(parsed.success, JSON.stringify(input)).toBe(false);
      if (path) expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain(path);
    }
  });

  it('splits each kind into settings kept in the clear and the one secret sealed for the vault', () => {
    const mail = splitChannelInput(NotificationChannelInput.parse(email));
    expect(mail.secret).toEqual({ kind: 'email', password: 'hunter2-but-longer' });
    expect(JSON.stringify(mail.config)).not.toContain('hunter2');
    const slack = splitChannelInput(
      NotificationChannelInput.parse({ kind: 'slack', name: 's', url: 'https://hooks.slack.com/services/T/B/secret' }),
    );
    expect(slack).toEqual({
      config: { kind: 'slack' },
      secret: { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/secret' },
    });
    const hook = splitChannelInput(
      NotificationChannelInput.parse({
        kind: 'webhook',
        name: 'w',
        url: 'https://h.example/x',
        secret: 's'.repeat(20),
      }),
    );
    expect(hook.config).toEqual({ kind: 'webhook', url: 'https://h.example/x' });
    expect(hook.secret).toEqual({ kind: 'webhook', secret: 's'.repeat(20) });
  });
});
