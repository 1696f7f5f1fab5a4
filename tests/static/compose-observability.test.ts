import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { ExecutorEnv } from '@opsc/executor-worker/env';
import { compose, defaultServices, envOf, profileServices, service } from './compose-file.js';

/** A bind mount `./host:/container[:ro]` of a service, by its container path. */
const mount = (name: string, target: string) => {
  const found = (service(name).volumes ?? []).map((v) => v.split(':')).find(([, t]) => t === target);
  expect(found, `${name} mounts ${target}`).toBeDefined();
  const [source, , mode] = found!;
  return { source: source!, readOnly: mode === 'ro' };
};
const repoFile = (source: string) => path.join(REPO_ROOT, source);
const readYaml = <T>(source: string): T => parse(readFileSync(repoFile(source), 'utf8')) as T;

interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: {
    job_name: string;
    static_configs?: { targets: string[] }[];
    dns_sd_configs?: { names: string[]; type: string; port: number }[];
  }[];
}

describe('docker-compose.yml: the observability profile', () => {
  it('adds Prometheus, Grafana and Jaeger, which nothing of the platform needs to start', () => {
    expect(profileServices('observability')).toEqual(['grafana', 'jaeger', 'prometheus']);
    for (const name of defaultServices()) {
      const needs = Object.keys(service(name).depends_on ?? {});
      expect(
        needs.filter((n) => profileServices('observability').includes(n)),
        name,
      ).toEqual([]);
    }
  });

  it("lets one setting send both services' traces to a collector, off while it is unset", () => {
    for (const name of ['orchestrator', 'executor-worker', 'executor-dmz']) {
      expect(service(name).environment?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}');
      expect(envOf(name).OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('');
    }
    expect(service('orchestrator').environment?.OTEL_TRACE_UI_URL).toBe('${OTEL_TRACE_UI_URL:-}');
    expect(service('jaeger').expose).toContain('4318');
  });

  it('pins each image to a release (Jaeger of the v2 line)', () => {
    expect(service('prometheus').image).toMatch(/^prom\/prometheus:v3\.\d+\.\d+$/);
    expect(service('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(service('jaeger').image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
  });

  it('publishes what has no sign-in on the host loopback only', () => {
    expect(service('prometheus').ports).toEqual(['127.0.0.1:9090:9090']);
    expect(service('jaeger').ports).toEqual(['127.0.0.1:16686:16686']);
    // OTLP (gRPC, HTTP) for the services, on the service network.
    expect(service('jaeger').expose).toEqual(['4317', '4318']);
    expect(service('grafana').ports).toEqual(['3001:3000']);
  });

  it('gives Prometheus its configuration and the alert rules read-only, where the configuration looks for them', () => {
    const config = mount('prometheus', '/etc/prometheus/prometheus.yml');
    expect(config).toEqual({ source: './observability/prometheus/prometheus.yml', readOnly: true });
    expect(service('prometheus').command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const parsed = readYaml<PrometheusConfig>(config.source);
    expect(parsed.rule_files.length).toBeGreaterThan(0);
    for (const file of parsed.rule_files) {
      const rules = mount('prometheus', path.posix.join('/etc/prometheus', file));
      expect(rules.readOnly).toBe(true);
      expect(existsSync(repoFile(rules.source)), rules.source).toBe(true);
    }
    expect(service('prometheus').volumes).toContain('prometheus-data:/prometheus');
    expect(Object.keys(compose.volumes)).toContain('prometheus-data');
  });

  it('scrapes the orchestrator and every replica of the default executor pool at their metrics ports', () => {
    const jobs = readYaml<PrometheusConfig>('observability/prometheus/prometheus.yml').scrape_configs;
    const orchestrator = jobs.find((j) => j.job_name === 'orchestrator')?.static_configs?.[0]?.targets ?? [];
    // ORCHESTRATOR_METRICS_PORT's default: a listener of its own, not the API's port.
    expect(orchestrator).toEqual(['orchestrator:9464']);
    expect(service('orchestrator').expose).toEqual(['9464']);
    const executor = jobs.find((j) => j.job_name === 'executor')?.dns_sd_configs ?? [];
    const port = ExecutorEnv.parse({
      ...envOf('executor-worker'),
      DATABASE_URL: 'postgres://x/y',
    }).EXECUTOR_HEALTH_PORT;
    // DNS discovery: one target per replica (`--scale executor-worker=N`).
    expect(executor).toMatchObject([{ names: ['executor-worker'], type: 'A', port }]);
    expect(service('executor-worker').expose).toContain(String(port));
  });

  it("signs Grafana's admin in with a password from a secret file, and lets nobody else in unasked", () => {
    const env = envOf('grafana');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    const file = env.GF_SECURITY_ADMIN_PASSWORD__FILE ?? '';
    const secret = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(file)?.[1];
    expect(secret, file).toBeDefined();
    expect(service('grafana').secrets).toContain(secret);
    expect(compose.secrets[secret!]?.file).toMatch(/^\.\/secrets\/[a-z0-9_]+$/);
    expect(env).toMatchObject({
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_PLUGINS_PREINSTALL_DISABLED: 'true',
      // Its root filesystem is read-only: nothing but the console and its data volume to write.
      GF_LOG_MODE: 'console',
    });
    expect(service('grafana').volumes).toContain('grafana-data:/var/lib/grafana');
    // Only the Grafana service holds that secret.
    for (const [name, svc] of Object.entries(compose.services))
      if (name !== 'grafana') expect(svc.secrets ?? [], name).not.toContain(secret);
  });

  it('provisions the Prometheus data source and the dashboard from the repository, read-only', () => {
    const provisioning = mount('grafana', '/etc/grafana/provisioning');
    expect(provisioning).toEqual({ source: './observability/grafana/provisioning', readOnly: true });
    const dashboards = mount('grafana', '/var/lib/grafana-dashboards');
    expect(dashboards).toEqual({ source: './observability/grafana/dashboards', readOnly: true });

    const sources = readYaml<{ datasources: { type: string; uid: string; url: string }[] }>(
      `${provisioning.source}/datasources/prometheus.yml`,
    ).datasources;
    expect(sources).toMatchObject([{ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090' }]);
    expect(service('grafana').depends_on?.prometheus).toEqual({ condition: 'service_healthy' });

    const providers = readYaml<{ providers: { type: string; options: { path: string } }[] }>(
      `${provisioning.source}/dashboards/opsconductor.yml`,
    ).providers;
    expect(providers).toMatchObject([{ type: 'file', options: { path: '/var/lib/grafana-dashboards' } }]);
    const home = envOf('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(home.startsWith('/var/lib/grafana-dashboards/')).toBe(true);
    expect(existsSync(repoFile(path.join(dashboards.source, path.basename(home))))).toBe(true);
    // The dashboard's default data source is the provisioned one.
    const dashboard = JSON.parse(readFileSync(repoFile(path.join(dashboards.source, path.basename(home))), 'utf8')) as {
      templating: { list: { name: string; current?: { value?: string } }[] };
    };
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.current?.value).toBe(sources[0]!.uid);
  });
});
