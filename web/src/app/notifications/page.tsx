'use client';
import { useCallback, useEffect, useState } from 'react';
import { NOTIFICATION_EVENTS, type NotificationEvent } from '@opsc/contracts';
import type {
  NotificationChannelList,
  NotificationChannelView,
  NotificationSubscriptions,
  NotificationTestAnswer,
} from '@opsc/contracts/api';
import { api, issuesByField } from '../../lib/api';
import { ChannelForm } from '../../components/notifications/channel-form';
import { DataTable } from '../../components/data-table';

const LABEL: Record<NotificationEvent, string> = {
  approval_needed: 'Approval needed',
  awaiting_decision: 'Awaiting decision',
  job_failed: 'Job failed',
  rolled_back: 'Rolled back',
  finished: 'Finished',
};

const describe = (c: NotificationChannelView): string =>
  c.config.kind === 'webhook'
    ? c.config.url
    : c.config.kind === 'email'
      ? `${c.config.username}@${c.config.host}:${c.config.port} (${c.config.tls}) → ${c.config.to.join(', ')}`
      : 'URL sealed in the vault';

/** The tenant's notification channels (admins): create each kind, send a test, choose the events each hears. */
export default function NotificationsPage() {
  const [channels, setChannels] = useState<NotificationChannelView[] | null>(null);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');

  const load = useCallback(async () => {
    const res = await api<NotificationChannelList>('/notifications/channels');
    if (res.ok) setChannels(res.data.channels);
    else setError(res.error.message);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const create = async (body: Record<string, unknown>): Promise<boolean> => {
    const res = await api('/notifications/channels', { body });
    if (!res.ok) {
      setErrors(issuesByField(res.error.issues));
      setError(res.error.message);
      return false;
    }
    setErrors(new Map());
    setError('');
    setNotice(`Channel "${String(body.name)}" created; its secret is sealed in the vault.`);
    await load();
    return true;
  };

  const test = async (c: NotificationChannelView) => {
    setNotice(`Sending a test to "${c.name}"…`);
    const res = await api<NotificationTestAnswer>(`/notifications/channels/${encodeURIComponent(c.name)}/test`, {
      body: {},
    });
    if (!res.ok) return setError(res.error.message);
    const { status, error: why } = res.data;
    setNotice(`Test to "${c.name}": ${status}${why ? ` (${why})` : ''}`);
  };

  const toggle = async (c: NotificationChannelView, event: NotificationEvent) => {
    const current = await api<NotificationSubscriptions>('/notifications/subscriptions');
    if (!current.ok) return setError(current.error.message);
    const others = current.data.subscriptions.filter(
      (s) => !(s.channel === c.name && s.event === event && !s.templateId),
    );
    const on = !c.events.includes(event);
    const res = await api('/notifications/subscriptions', {
      method: 'PUT',
      body: { subscriptions: on ? [...others, { channel: c.name, event, templateId: null }] : others },
    });
    setError(res.ok ? '' : res.error.message);
    await load();
  };

  const remove = async (c: NotificationChannelView) => {
    const res = await api(`/notifications/channels/${encodeURIComponent(c.name)}`, { method: 'DELETE' });
    setError(res.ok ? '' : res.error.message);
    await load();
  };

  return (
    <section aria-label="Notifications">
      <h1>Notifications</h1>
      <p className="muted small">
        Jobs tell these channels when they need approval, wait for a decision, fail, roll back or finish. Secrets
        (signing secret, Slack URL, SMTP password) are sealed for the vault when saved and never shown again.
      </p>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p className="ok-box" role="status" data-testid="notification-notice">
          {notice}
        </p>
      )}
      <ChannelForm errors={errors} onCreate={create} />
      <DataTable
        rows={channels}
        failed={Boolean(error) && channels === null}
        columns={['Name', 'Kind', 'Where', ...NOTIFICATION_EVENTS.map((e) => LABEL[e]), '']}
        testId="channels-table"
        empty="No channels yet."
        row={(c) => (
          <tr key={c.name} data-channel={c.name}>
            <td>{c.name}</td>
            <td>{c.kind}</td>
            <td className="mono small">{describe(c)}</td>
            {NOTIFICATION_EVENTS.map((e) => (
              <td key={e}>
                <input
                  type="checkbox"
                  aria-label={`${c.name}: ${LABEL[e]}`}
                  checked={c.events.includes(e)}
                  onChange={() => void toggle(c, e)}
                />
              </td>
            ))}
            <td>
              <button type="button" onClick={() => void test(c)}>
                Send test
              </button>{' '}
              <button type="button" onClick={() => void remove(c)}>
                Delete
              </button>
            </td>
          </tr>
        )}
      />
    </section>
  );
}
