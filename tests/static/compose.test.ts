import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { ExecutorEnv } from '@opsc/executor-worker/env';
import { OrchestratorEnv } from '@opsc/orchestrator/env';

interface Service {
  environment?: Record<string, string | number>;
  ports?: string[];
  expose?: string[];
  deploy?: { replicas?: number };
  build?: { target?: string };
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

describe('docker-compose.yml, the production topology', () => {
  it('has every box of DESIGN.md', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['executor-worker', 'migrate', 'orchestrator', 'postgresql', 'temporal', 'temporal-ui', 'web']);
    expect(service('executor-worker').deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['orchestrator', OrchestratorEnv],
    ['executor-worker', ExecutorEnv],
  ] as const)('sets only variables the %s config schema knows, with values it accepts', (name, schema) => {
    const env = Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, String(v)]));
    const known = Object.keys(schema.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    const parsed = schema.safeParse({ ...env, DATABASE_URL: 'postgres://opsc:x@postgresql:5432/opsconductor' });
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('publishes the ports the services listen on', () => {
    const orchestrator = OrchestratorEnv.parse(service('orchestrator').environment);
    expect(service('orchestrator').ports).toEqual([`${orchestrator.API_PORT}:${orchestrator.API_PORT}`]);
    const executor = ExecutorEnv.parse({ ...service('executor-worker').environment, DATABASE_URL: 'postgres://x/y' });
    expect(service('executor-worker').expose).toEqual([String(executor.EXECUTOR_HEALTH_PORT)]);
    expect(service('temporal').ports).toEqual(['7233:7233']);
    expect(service('temporal-ui').ports).toEqual(['8233:8080']);
    expect(orchestrator.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('runs the web app on 3000 against the orchestrator API, with nothing else to reach', () => {
    const web = service('web');
    const orchestrator = OrchestratorEnv.parse(service('orchestrator').environment);
    // The web server's whole configuration (web/src/env.ts) is where the API is; telemetry is off.
    expect(Object.keys(web.environment ?? {}).sort()).toEqual(['NEXT_TELEMETRY_DISABLED', 'OPSC_API_URL']);
    expect(String(web.environment?.NEXT_TELEMETRY_DISABLED)).toBe('1');
    expect(web.environment?.OPSC_API_URL).toBe(`http://orchestrator:${orchestrator.API_PORT}`);
    expect(web.ports).toEqual(['3000:3000']);
    expect(web.build?.target).toBe('web');
    expect(web.depends_on?.orchestrator).toEqual({ condition: 'service_healthy' });
  });

  it('migrates before the services start, and runs each service as its own database role', () => {
    expect(service('migrate').command).toEqual(['node', 'database/dist/cli.js', 'migrate']);
    expect(service('orchestrator').depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(String(service('orchestrator').environment?.DATABASE_URL)).toMatch(/^postgres:\/\/opsc_orchestrator:/);
    expect(String(service('executor-worker').environment?.DATABASE_URL)).toMatch(/^postgres:\/\/opsc_executor:/);
  });

  it('keeps every other service of the platform out of reach of steps (the executor denies them by name)', () => {
    const deny = ExecutorEnv.parse({ ...service('executor-worker').environment, DATABASE_URL: 'postgres://x/y' }).EXECUTOR_EGRESS_DENY;
    expect([...deny].sort()).toEqual(Object.keys(compose.services).sort());
  });

  it('gives the vault key to no one but the executor', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (name === 'executor-worker') continue;
      expect(Object.keys(svc.environment ?? {}).filter((k) => /VAULT/.test(k)), name).toEqual([]);
    }
    expect(Object.keys(OrchestratorEnv.shape).filter((k) => /VAULT|SECRET|MASTER_KEY/.test(k))).toEqual([]);
  });
});
