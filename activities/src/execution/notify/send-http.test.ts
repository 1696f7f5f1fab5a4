import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NotificationPayload } from '@opsc/contracts';
import { signWebhook, slackBody } from './send-http.js';

describe('webhook signature and Slack body', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 as v1=<hex>, as a receiver recomputes it', () => {
    const body = '{"id":"notify-job-1-finished-1"}';
    const expected = createHmac('sha256', 'the secret').update(`1700000000.${body}`).digest('hex');
    expect(signWebhook('the secret', '1700000000', body)).toBe(`v1=${expected}`);
    expect(signWebhook('another secret', '1700000000', body)).not.toBe(`v1=${expected}`);
  });

  it('gives Slack the text and blocks with the event id', () => {
    const payload: NotificationPayload = {
      id: 'notify-job-1-finished-1',
      event: 'finished',
      occurredAt: '2026-12-02T00:00:00.000Z',
      tenant: 'acme',
      job: null,
      text: 'Job "x" finished: completed.',
    };
    const body = slackBody(payload);
    expect(body.text).toBe(payload.text);
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: payload.text } });
    expect(JSON.stringify(body.blocks[1])).toContain('notify-job-1-finished-1');
  });
});
