import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { ExecutorEnv } from '@opsc/executor-worker/env';
import { compose, envOf, executorServices, oneShotJobs, service } from './compose-file.js';

/** The Temporal server version the cluster tests build (`server_version=vX.Y.Z`), without the `v`. */
const serverVersion = (): string => {
  const script = readFileSync(path.join(REPO_ROOT, 'temporal', 'bin', 'ensure-temporal-server.sh'), 'utf8');
  const match = /^server_version=v(\d+\.\d+\.\d+)$/m.exec(script);
  if (!match) throw new Error('temporal/bin/ensure-temporal-server.sh sets no server_version=vX.Y.Z');
  return match[1]!;
};
const script = (name: string) => [...(service(name).entrypoint ?? []), ...(service(name).command ?? [])].join('\n');

describe('docker-compose.yml: the Temporal server, its schemas and its namespace', () => {
  it('runs the server and admin tools at the version the cluster tests build, and no auto-setup image', () => {
    const version = serverVersion();
    expect(service('temporal').image).toBe(`temporalio/server:${version}`);
    expect(service('temporal-schema').image).toBe(`temporalio/admin-tools:${version}`);
    expect(service('temporal-namespace').image).toBe(`temporalio/admin-tools:${version}`);
    for (const [name, svc] of Object.entries(compose.services)) expect(svc.image ?? '', name).not.toMatch(/auto-setup/);
  });

  it('applies both schemas (persistence and visibility) to the databases the server opens, before it starts', () => {
    expect(service('temporal').depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    expect(service('temporal-schema').depends_on).toEqual({
      'temporal-db-role': { condition: 'service_completed_successfully' },
    });
    expect(service('temporal-db-role').depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    // Temporal logs in as its own role, never as the administrator who owns the platform's database.
    expect(envOf('temporal').POSTGRES_USER).toBe('temporal');
    expect(envOf('temporal').POSTGRES_PWD).toMatch(/^\$\{TEMPORAL_DB_PASSWORD:\?/);
    expect(envOf('temporal-schema').SQL_USER).toBe('temporal');
    expect(JSON.stringify(envOf('temporal'))).not.toContain('POSTGRES_PASSWORD');
    expect(JSON.stringify(envOf('temporal-schema'))).not.toContain('POSTGRES_PASSWORD');
    expect(script('temporal-db-role')).toContain(
      "ALTER ROLE temporal WITH LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD :'pw';",
    );
    const server = envOf('temporal');
    const schema = envOf('temporal-schema');
    expect(server.DB).toBe('postgres12');
    expect(schema).toMatchObject({
      SQL_PLUGIN: server.DB,
      SQL_HOST: server.POSTGRES_SEEDS,
      SQL_PORT: server.DB_PORT,
      SQL_USER: server.POSTGRES_USER,
      SQL_PASSWORD: server.POSTGRES_PWD,
    });
    // The server's template names the two databases `temporal` and `temporal_visibility` unless
    // DBNAME / VISIBILITY_DBNAME say otherwise.
    expect(server.DBNAME ?? 'temporal').toBe('temporal');
    expect(server.VISIBILITY_DBNAME ?? 'temporal_visibility').toBe('temporal_visibility');
    const text = script('temporal-schema');
    expect(text).toMatch(/for pair in temporal:temporal temporal_visibility:visibility; do/);
    for (const step of [
      'create',
      'setup-schema -v 0.0',
      'update-schema -d "/etc/temporal/schema/postgresql/v12/$$schema/versioned"',
    ])
      expect(text).toContain(`temporal-sql-tool --db "$$db" ${step}`);
  });

  it('creates the namespace the services use once the server is healthy, over mutual TLS as the admin client, before they start', () => {
    expect(service('temporal-namespace').depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    const job = envOf('temporal-namespace');
    expect(job).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: envOf('orchestrator').TEMPORAL_NAMESPACE,
      TEMPORAL_TLS_CA_PATH: '/run/secrets/temporal_ca',
      TEMPORAL_TLS_CERT_PATH: '/run/secrets/temporal_admin_cert',
      TEMPORAL_TLS_KEY_PATH: '/run/secrets/temporal_admin_key',
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
    });
    expect(service('temporal-namespace').secrets?.sort()).toEqual([
      'temporal_admin_cert',
      'temporal_admin_key',
      'temporal_ca',
    ]);
    expect(compose.secrets.temporal_admin_key?.file).toBe('./secrets/temporal-tls/admin.key');
    expect(script('temporal-namespace')).toContain(
      'temporal operator namespace create --namespace "$$TEMPORAL_NAMESPACE"',
    );
    for (const name of ['orchestrator', ...executorServices()]) {
      expect(envOf(name).TEMPORAL_NAMESPACE, name).toBe(job.TEMPORAL_NAMESPACE);
      expect(service(name).depends_on?.['temporal-namespace'], name).toEqual({
        condition: 'service_completed_successfully',
      });
    }
  });
});

describe('docker-compose.yml: least privilege', () => {
  // Both images render their configuration into their own folders at every start.
  const writableRoot = ['temporal', 'temporal-ui'];

  it('runs every service as a user other than root, without capabilities or a way to gain privileges', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.user, name).toMatch(/^(node|postgres|[1-9]\d*:[1-9]\d*)$/);
      expect(svc.cap_drop, name).toEqual(['ALL']);
      expect(svc.security_opt, name).toEqual(['no-new-privileges:true']);
    }
  });

  it('gives every service whose image writes nothing at start a read-only root filesystem, with a tmpfs for /tmp', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect({ name, readOnly: svc.read_only === true }).toEqual({ name, readOnly: !writableRoot.includes(name) });
      if (svc.read_only) expect(svc.tmpfs, name).toContain('/tmp');
    }
    // What the read-only ones write: PostgreSQL its data (volume) and socket; executors their artifacts.
    expect(service('postgresql').tmpfs).toContain('/var/run/postgresql');
    expect(service('postgresql').volumes).toEqual(['pgdata:/var/lib/postgresql/data']);
    for (const name of executorServices()) {
      const dir = ExecutorEnv.parse({ ...envOf(name), DATABASE_URL: 'postgres://x/y' }).EXECUTOR_ARTIFACT_DIR;
      const volume = service(name).volumes?.find((v) => v.endsWith(`:${dir}`));
      expect(volume, name).toBeDefined();
      expect(Object.keys(compose.volumes)).toContain(volume!.split(':')[0]);
    }
  });

  it('checks the health of every long-running service, and of no one-shot job', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const test = svc.healthcheck?.test ?? [];
      expect({ name, checked: test.length > 0 }).toEqual({ name, checked: !oneShotJobs().includes(name) });
    }
  });
});

describe('docker-compose.yml: executor pools', () => {
  it('runs a dmz pool: the same executor image, joined with EXECUTOR_POOL, reachable from nowhere', () => {
    const dmz = service('executor-dmz');
    expect(dmz.build?.target).toBe('executor-worker');
    expect(envOf('executor-dmz').EXECUTOR_POOL).toBe('dmz');
    // A named pool serves the tenants it names, and compose asks for them.
    expect(envOf('executor-dmz').EXECUTOR_POOL_TENANTS).toMatch(/^\$\{EXECUTOR_DMZ_TENANTS:\?/);
    // The default pool is the one that names none.
    expect(envOf('executor-worker').EXECUTOR_POOL).toBeUndefined();
    expect(dmz.ports).toBeUndefined();
    expect(dmz.expose).toBeUndefined();
    expect(envOf('executor-dmz').EXECUTOR_HEALTH_HOST).toBe('127.0.0.1');
    const port = ExecutorEnv.parse({ ...envOf('executor-dmz'), DATABASE_URL: 'postgres://x/y' }).EXECUTOR_HEALTH_PORT;
    expect(dmz.healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${port}/health`);
  });

  it("mounts the dmz pool's own references to its secrets, and its own artifacts", () => {
    const dmz = envOf('executor-dmz');
    expect(dmz.OPSC_VAULT_KEY_FILE).toBe('/run/secrets/opsc_vault_key_dmz');
    expect(service('executor-dmz').secrets).toContain('opsc_vault_key_dmz');
    expect(compose.secrets.opsc_vault_key_dmz?.file).toMatch(/^\.\/secrets\/.+\.pem$/);
    expect(service('executor-dmz').volumes?.[0]?.split(':')[0]).not.toBe(
      service('executor-worker').volumes?.[0]?.split(':')[0],
    );
  });
});
