import { describe, expect, it } from 'vitest';
import { readNotification } from './alertmanager.js';

const alert = (fingerprint: string, status: 'firing' | 'resolved', startsAt = '2026-12-02T10:00:00Z') => ({
  status,
  labels: { alertname: 'ServiceDown', service: 'nginx', instance: `${fingerprint}:9100` },
  annotations: { summary: 'down' },
  startsAt,
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus/graph',
  fingerprint,
});
const notification = (status: 'firing' | 'resolved', alerts: ReturnType<typeof alert>[]) => ({
  receiver: 'opsc',
  status,
  alerts,
  groupLabels: { alertname: 'ServiceDown' },
  commonLabels: { alertname: 'ServiceDown', service: 'nginx' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  version: '4',
  groupKey: '{}:{alertname="ServiceDown"}',
  truncatedAlerts: 0,
});
const keyOf = (n: unknown) => {
  const read = readNotification(n);
  if ('issues' in read) throw new Error(JSON.stringify(read.issues));
  return read.key;
};

describe('an Alertmanager notification', () => {
  it('is keyed by its group and its firing alerts, in any order; resolved alerts in it do not count', () => {
    const a = keyOf(notification('firing', [alert('aa', 'firing'), alert('bb', 'firing')]));
    expect(keyOf(notification('firing', [alert('bb', 'firing'), alert('aa', 'firing')]))).toBe(a);
    expect(keyOf(notification('firing', [alert('bb', 'firing'), alert('aa', 'firing'), alert('cc', 'resolved')]))).toBe(
      a,
    );
    // Another firing set, an alert that fired again (a new start), or a resolved group: another key.
    expect(keyOf(notification('firing', [alert('aa', 'firing')]))).not.toBe(a);
    expect(
      keyOf(notification('firing', [alert('aa', 'firing'), alert('bb', 'firing', '2026-12-02T11:00:00Z')])),
    ).not.toBe(a);
    expect(keyOf(notification('resolved', [alert('aa', 'resolved'), alert('bb', 'resolved')]))).not.toBe(a);
  });

  it("shows the mapping the alerts of the notification's status only", () => {
    const read = readNotification(notification('firing', [alert('aa', 'firing'), alert('cc', 'resolved')]));
    expect(read).toMatchObject({
      status: 'firing',
      view: { alerts: [expect.objectContaining({ fingerprint: 'aa' })] },
    });
    expect((read as unknown as { view: { alerts: unknown[] } }).view.alerts).toHaveLength(1);
  });

  it('refuses anything else, naming the field', () => {
    expect(readNotification({ ...notification('firing', [alert('aa', 'firing')]), version: '3' })).toEqual({
      issues: [{ path: 'body.version', message: 'only the version 4 webhook format is understood' }],
    });
    expect(readNotification({ text: 'restart everything' })).toMatchObject({
      issues: expect.arrayContaining([{ path: 'body.groupKey', message: expect.any(String) }]),
    });
  });
});
