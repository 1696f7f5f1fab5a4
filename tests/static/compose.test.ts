import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { ExecutorEnv } from '@opsc/executor-worker/env';
import { OrchestratorEnv } from '@opsc/orchestrator/env';
import { temporalConnectionOptions } from '@opsc/temporal/connection';
import { compose, defaultServices, envOf, executorServices, oneShotJobs, service } from './compose-file.js';

describe('docker-compose.yml, the production topology', () => {
  it('has every box of DESIGN.md', () => {
    expect(defaultServices()).toEqual([
      'executor-dmz',
      'executor-worker',
      'migrate',
      'orchestrator',
      'postgresql',
      'temporal',
      'temporal-db-role',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'web',
    ]);
    expect(service('executor-worker').deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(executorServices()).toEqual(['executor-dmz', 'executor-worker']);
    expect(oneShotJobs()).toEqual(['migrate', 'temporal-db-role', 'temporal-namespace', 'temporal-schema']);
  });

  it.each([
    ['orchestrator', OrchestratorEnv],
    ['executor-worker', ExecutorEnv],
    ['executor-dmz', ExecutorEnv],
  ] as const)('sets only variables the %s config schema knows, with values it accepts', (name, schema) => {
    const env = envOf(name);
    const known = Object.keys(schema.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    const parsed = schema.safeParse({ ...env, DATABASE_URL: 'postgres://opsc:x@postgresql:5432/opsconductor' });
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('brings back any long-running service that dies, and gives each executor time to finish and save before it is killed', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect({ name, restart: svc.restart }).toEqual({
        name,
        restart: oneShotJobs().includes(name) ? 'no' : 'unless-stopped',
      });
    }
    for (const name of executorServices()) {
      const executor = service(name);
      const env = ExecutorEnv.parse({ ...envOf(name), DATABASE_URL: 'postgres://x/y' });
      const grace = Number(/^(\d+)s$/.exec(executor.stop_grace_period ?? '')?.[1]);
      expect(env.EXECUTOR_SHUTDOWN_GRACE_SECONDS, name).toBeGreaterThan(0);
      expect(grace, name).toBeGreaterThan(
        env.EXECUTOR_SHUTDOWN_GRACE_SECONDS + env.EXECUTOR_RESULT_OUTBOX_FLUSH_SECONDS,
      );
    }
  });

  it('publishes the ports the services listen on', () => {
    const orchestrator = OrchestratorEnv.parse(envOf('orchestrator'));
    expect(service('orchestrator').ports).toEqual([`${orchestrator.API_PORT}:${orchestrator.API_PORT}`]);
    const executor = ExecutorEnv.parse({ ...envOf('executor-worker'), DATABASE_URL: 'postgres://x/y' });
    expect(service('executor-worker').expose).toEqual([String(executor.EXECUTOR_HEALTH_PORT)]);
    expect(service('temporal').ports).toEqual(['7233:7233']);
    expect(service('temporal-ui').ports).toEqual(['8233:8080']);
    expect(orchestrator.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('runs the web app on 3000 against the orchestrator API, with nothing else to reach', () => {
    const web = service('web');
    const orchestrator = OrchestratorEnv.parse(envOf('orchestrator'));
    // The web server's whole configuration (web/src/env.ts) is where the API is; telemetry is off.
    expect(Object.keys(web.environment ?? {}).sort()).toEqual(['NEXT_TELEMETRY_DISABLED', 'OPSC_API_URL']);
    expect(String(web.environment?.NEXT_TELEMETRY_DISABLED)).toBe('1');
    expect(web.environment?.OPSC_API_URL).toBe(`http://orchestrator:${orchestrator.API_PORT}`);
    expect(web.ports).toEqual(['3000:3000']);
    expect(web.build?.target).toBe('web');
    expect(web.depends_on?.orchestrator).toEqual({ condition: 'service_healthy' });
  });

  it("believes X-Forwarded-For from the web app's server alone, at its fixed address", () => {
    const orchestrator = OrchestratorEnv.parse(envOf('orchestrator'));
    const webAddress = service('web').networks?.default?.ipv4_address;
    expect(webAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // Nothing else in the compose network (or behind Docker's port proxy) may speak for a browser.
    expect(orchestrator.API_TRUST_PROXY.split(',').map((p) => p.trim())).toEqual(['loopback', webAddress]);
  });

  it('migrates before the services start, and runs each service as its own database role', () => {
    expect(service('migrate').command).toEqual(['node', 'database/dist/cli.js', 'migrate']);
    expect(service('orchestrator').depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(String(service('orchestrator').environment?.DATABASE_URL)).toMatch(/^postgres:\/\/opsc_orchestrator:/);
    expect(String(service('executor-worker').environment?.DATABASE_URL)).toMatch(/^postgres:\/\/opsc_executor:/);
  });

  it('keeps every other service of the platform out of reach of steps (each executor denies them by name)', () => {
    for (const name of executorServices()) {
      const deny = ExecutorEnv.parse({ ...envOf(name), DATABASE_URL: 'postgres://x/y' }).EXECUTOR_EGRESS_DENY;
      expect([...deny].sort(), name).toEqual(Object.keys(compose.services).sort());
    }
  });

  it('gives the vault key to no one but the executors', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const vault = [
        ...Object.keys(svc.environment ?? {}).filter((k) => /VAULT/.test(k)),
        ...(svc.secrets ?? []).filter((k) => /vault/.test(k)),
      ];
      expect(vault.length > 0, name).toBe(executorServices().includes(name));
    }
    expect(Object.keys(OrchestratorEnv.shape).filter((k) => /VAULT|SECRET|MASTER_KEY/.test(k))).toEqual([]);
  });
});

describe('docker-compose.yml: Temporal is not an authority', () => {
  const env = envOf;
  /** The compose secret a path in a container names, if that service mounts it. */
  const mountedSecret = (name: string, file: string): string => {
    const match = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(file);
    expect(match, `${name}: ${file} is not a mounted secret`).not.toBeNull();
    const secret = match![1]!;
    expect(service(name).secrets ?? [], `${name} mounts ${secret}`).toContain(secret);
    expect(compose.secrets[secret]?.file, `secret ${secret}`).toMatch(/^\.\/secrets\//);
    return secret;
  };
  const certificateOf = (name: string, file: string) => compose.secrets[mountedSecret(name, file)]!.file;

  it('lets only the services that must reach Temporal, each over mutual TLS with a certificate of its own', () => {
    const clients = Object.entries(compose.services)
      .filter(([, svc]) => Object.values(svc.environment ?? {}).some((v) => String(v).includes('temporal:7233')))
      .map(([name]) => name)
      .sort();
    expect(clients).toEqual([
      'executor-dmz',
      'executor-worker',
      'orchestrator',
      'temporal',
      'temporal-namespace',
      'temporal-ui',
    ]);

    // The services' own mapping from their environment to the connection, reading only what is mounted.
    const read = (name: string) => (file: string) => Buffer.from(certificateOf(name, file));
    const orchestrator = temporalConnectionOptions(
      OrchestratorEnv.parse({ ...env('orchestrator'), DATABASE_URL: 'postgres://x/y' }),
      read('orchestrator'),
    );
    const executor = temporalConnectionOptions(
      ExecutorEnv.parse({ ...env('executor-worker'), DATABASE_URL: 'postgres://x/y' }),
      read('executor-worker'),
    );
    const dmz = temporalConnectionOptions(
      ExecutorEnv.parse({ ...env('executor-dmz'), DATABASE_URL: 'postgres://x/y' }),
      read('executor-dmz'),
    );
    for (const options of [orchestrator, executor, dmz]) {
      expect(options.address).toBe('temporal:7233');
      expect(options.tls?.serverNameOverride).toBe('temporal');
      expect(String(options.tls?.serverRootCACertificate)).toBe('./secrets/temporal-tls/ca.pem');
    }
    expect(String(orchestrator.tls?.clientCertPair?.crt)).toBe('./secrets/temporal-tls/orchestrator.pem');
    expect(String(orchestrator.tls?.clientCertPair?.key)).toBe('./secrets/temporal-tls/orchestrator.key');
    expect(String(executor.tls?.clientCertPair?.crt)).toBe('./secrets/temporal-tls/executor-worker.pem');
    expect(String(executor.tls?.clientCertPair?.key)).toBe('./secrets/temporal-tls/executor-worker.key');
    expect(String(dmz.tls?.clientCertPair?.crt)).toBe('./secrets/temporal-tls/executor-dmz.pem');
    expect(String(dmz.tls?.clientCertPair?.key)).toBe('./secrets/temporal-tls/executor-dmz.key');

    const ui = env('temporal-ui');
    expect(certificateOf('temporal-ui', ui.TEMPORAL_TLS_CA!)).toBe('./secrets/temporal-tls/ca.pem');
    expect(certificateOf('temporal-ui', ui.TEMPORAL_TLS_CERT!)).toBe('./secrets/temporal-tls/temporal-ui.pem');
    expect(certificateOf('temporal-ui', ui.TEMPORAL_TLS_KEY!)).toBe('./secrets/temporal-tls/temporal-ui.key');
    expect(ui).toMatchObject({ TEMPORAL_TLS_SERVER_NAME: 'temporal', TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: 'true' });

    // No private key is mounted into two services.
    const keys = Object.values(compose.services).flatMap((svc) =>
      (svc.secrets ?? []).filter((x) => x.endsWith('_key')),
    );
    expect(keys.length).toBe(new Set(keys).size);
  });

  it('has the frontend refuse clients without a certificate of the CA, and checks its health with its own', () => {
    const temporal = env('temporal');
    expect(temporal.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe('true');
    expect(certificateOf('temporal', temporal.TEMPORAL_TLS_CLIENT1_CA_CERT!)).toBe('./secrets/temporal-tls/ca.pem');
    expect(certificateOf('temporal', temporal.TEMPORAL_TLS_SERVER_CA_CERT!)).toBe('./secrets/temporal-tls/ca.pem');
    for (const k of ['TEMPORAL_TLS_SERVER_CERT', 'TEMPORAL_TLS_FRONTEND_CERT'])
      expect(certificateOf('temporal', temporal[k]!)).toBe('./secrets/temporal-tls/temporal.pem');
    for (const k of ['TEMPORAL_TLS_SERVER_KEY', 'TEMPORAL_TLS_FRONTEND_KEY'])
      expect(certificateOf('temporal', temporal[k]!)).toBe('./secrets/temporal-tls/temporal.key');
    expect(temporal).toMatchObject({
      TEMPORAL_TLS_FRONTEND_DISABLE_HOST_VERIFICATION: 'false',
      TEMPORAL_TLS_INTERNODE_DISABLE_HOST_VERIFICATION: 'false',
    });
    const health = service('temporal').healthcheck?.test ?? [];
    const flag = (name: string) => health[health.indexOf(name) + 1] ?? '';
    // The server's certificate is also a client one (Temporal's services present it to one another),
    // so the admin CLI's key stays with the namespace job alone.
    expect(certificateOf('temporal', flag('--tls-cert-path'))).toBe('./secrets/temporal-tls/temporal.pem');
    expect(certificateOf('temporal', flag('--tls-key-path'))).toBe('./secrets/temporal-tls/temporal.key');
    expect(certificateOf('temporal', flag('--tls-ca-path'))).toBe('./secrets/temporal-tls/ca.pem');
    expect(flag('--tls-server-name')).toBe('temporal');
  });

  it('has the UI let in only people who signed in, and change nothing', () => {
    const ui = env('temporal-ui');
    expect(ui).toMatchObject({
      TEMPORAL_AUTH_ENABLED: 'true',
      TEMPORAL_AUTH_TYPE: 'oidc',
      TEMPORAL_DISABLE_WRITE_ACTIONS: 'true',
    });
    for (const k of [
      'TEMPORAL_AUTH_PROVIDER_URL',
      'TEMPORAL_AUTH_CLIENT_ID',
      'TEMPORAL_AUTH_CLIENT_SECRET',
      'TEMPORAL_AUTH_CALLBACK_URL',
    ]) {
      // Required from the operator's environment: compose refuses to start without it.
      expect(ui[k], k).toMatch(/\$\{[A-Z_]+:\?[^}]+\}/);
    }
  });

  it('mounts only certificates that scripts/temporal-certs.sh issues', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-compose-certs-'));
    try {
      execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'temporal-certs.sh'), dir], { stdio: 'ignore' });
      const issued = readdirSync(dir).map((f) => `./secrets/temporal-tls/${f}`);
      const mounted = Object.values(compose.secrets)
        .map((s) => s.file)
        .filter((f) => f.startsWith('./secrets/temporal-tls/'));
      expect(mounted.length).toBeGreaterThanOrEqual(11);
      expect(mounted.filter((f) => !issued.includes(f))).toEqual([]);
      // The CA's key stays with whoever issues certificates.
      expect(mounted).not.toContain('./secrets/temporal-tls/ca.key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
