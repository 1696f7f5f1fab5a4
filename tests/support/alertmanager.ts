import path from 'node:path';
import { startPromDaemon } from './prom-daemon.js';

/** Debian's prometheus-alertmanager (`scripts/setup.sh --test` installs it). */
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export interface AlertmanagerReceiver {
  name: string;
  /** Alerts with this label value go to this receiver (`receiver="<name>"` when absent). */
  url: string;
  /** Sent as `Authorization: Bearer <credentials>` (http_config.authorization). */
  credentials: string;
}

export interface RunningAlertmanager {
  url: string;
  /** Posts alerts to its v2 API (as Prometheus does). */
  postAlerts(
    alerts: { labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }[],
  ): Promise<void>;
  /** A counter of its own metrics, summed over the series whose name starts with `name`. */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

const yamlString = (s: string): string => JSON.stringify(s);

/**
 * A real Alertmanager on loopback with a webhook receiver per trigger: alerts labelled
 * `receiver="<name>"` go to that receiver, grouped by alertname and service, flushed within a
 * second and repeated every `repeatSeconds` while they fire (resolved notifications sent too).
 */
export const startAlertmanager = async (
  label: string,
  receivers: AlertmanagerReceiver[],
  options: { repeatSeconds?: number } = {},
): Promise<RunningAlertmanager> => {
  const config = [
    'route:',
    `  receiver: ${yamlString(receivers[0]!.name)}`,
    '  group_by: [alertname, service]',
    '  group_wait: 1s',
    '  group_interval: 2s',
    `  repeat_interval: ${options.repeatSeconds ?? 3600}s`,
    '  routes:',
    ...receivers.flatMap((r) => [
      `    - receiver: ${yamlString(r.name)}`,
      '      matchers:',
      `        - ${yamlString(`receiver="${r.name}"`)}`,
    ]),
    'receivers:',
    ...receivers.flatMap((r) => [
      `  - name: ${yamlString(r.name)}`,
      '    webhook_configs:',
      `      - url: ${yamlString(r.url)}`,
      '        send_resolved: true',
      '        http_config:',
      '          authorization:',
      `            credentials: ${yamlString(r.credentials)}`,
    ]),
  ].join('\n');
  const { url, stop } = await startPromDaemon({
    bin: ALERTMANAGER_BIN,
    debianPackage: 'prometheus-alertmanager',
    kind: 'alertmanager',
    label,
    configFile: 'alertmanager.yml',
    config,
    args: (dir, configPath, listen) => [
      `--config.file=${configPath}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=${listen}`,
      // No cluster: no gossip port, no peers.
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 5_000,
  });
  return {
    url,
    async postAlerts(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!res.ok) throw new Error(`alertmanager refused the alerts: ${res.status} ${await res.text()}`);
    },
    async metric(name) {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith(name))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    },
    stop,
  };
};
