import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { REPO_ROOT, startService, type ServiceProcess } from '@opsc/dev';
import { requestJson } from './api.js';
import { waitForLine } from './lines.js';
import type { TestStack } from './stack.js';

/** `node dev/dist/up.js --demo` as `npm run demo` runs it, on ports and a data folder of the test's own. */
export interface DemoRun {
  up: ServiceProcess;
  lines: string[];
  /** Every PID it announced: services and fleets. */
  pids: Set<number>;
  apiUrl: string;
  webUrl: string;
}

export interface DemoPorts {
  api: number;
  web: number;
  health: number;
  /** The orchestrator's metrics listener; off (0) when absent, so no test holds the default 9464. */
  metrics?: number;
}

/** The environment `npm run up` gets in a test: the suite's Temporal, the stack's database and keys, own ports. */
export const upEnv = (stack: TestStack, dataDir: string, ports: DemoPorts): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
  OPSC_DATA_DIR: dataDir,
  TEMPORAL_ADDRESS: inject('temporalAddress'),
  TEMPORAL_NAMESPACE: stack.namespace,
  DATABASE_URL: stack.databaseUrl,
  OPSC_VAULT_KEY_FILE: stack.vaultKeyFile,
  EXECUTOR_ARTIFACT_DIR: stack.artifactDir,
  API_PORT: String(ports.api),
  WEB_PORT: String(ports.web),
  EXECUTOR_HEALTH_PORT: String(ports.health),
  ORCHESTRATOR_METRICS_PORT: String(ports.metrics ?? 0),
});

export const startDemo = async (
  stack: TestStack,
  dataDir: string,
  ports: DemoPorts,
  label: string,
): Promise<DemoRun> => {
  const lines: string[] = [];
  const pids = new Set<number>();
  const logFile = path.join(inject('logDir'), `${stack.namespace}-${label}.log`);
  const up = startService({
    name: 'up',
    script: path.join(REPO_ROOT, 'dev/dist/up.js'),
    args: ['--demo'],
    env: upEnv(stack, dataDir, ports),
    onLine: (line) => {
      lines.push(line);
      // Its output goes to the run's logs, which the secret scan reads.
      appendFileSync(logFile, `${line}\n`);
      const pid = /^\[up\] \w+ (?:re)?started \(pid (\d+)\)$/.exec(line) ?? /fleet pid (\d+)/.exec(line);
      if (pid) pids.add(Number(pid[1]));
    },
  });
  await waitForLine(lines, /^\[demo\] ready in [\d.]+ s$/, 400_000);
  return { up, lines, pids, apiUrl: `http://127.0.0.1:${ports.api}`, webUrl: `http://127.0.0.1:${ports.web}` };
};

export interface DemoUsersFile {
  tenant: string;
  users: { username: string; role: string; password: string }[];
}

export const readDemoUsers = (dataDir: string): DemoUsersFile =>
  JSON.parse(readFileSync(path.join(dataDir, 'demo', 'users.json'), 'utf8')) as DemoUsersFile;

/** Signs in through the API as a person does, then makes an API token for the test's requests. */
export const tokenFor = async (apiUrl: string, tenant: string, username: string, password: string) => {
  const res = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant, username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in of ${username}: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const issued = await requestJson<{ token: string }>(`${apiUrl}/api/tokens`, {
    body: { name: 'demo test', expiresInDays: 1 },
    headers: { cookie, origin: apiUrl },
  });
  if (issued.status !== 201) throw new Error(`token of ${username}: ${issued.status}`);
  return issued.body.token;
};

/** A demo Linux host as the inventory has it, reached with the demo's client key by the `ssh` client. */
export const sshOnDemoHost = async (
  apiUrl: string,
  token: string,
  dataDir: string,
  target: string,
  script: string,
): Promise<string> => {
  const targets = await requestJson<{ targets: { name: string; address: string; services: { port?: number }[] }[] }>(
    `${apiUrl}/api/inventory/targets`,
    { token },
  );
  const credentials = await requestJson<{ credentials: { name: string; username: string }[] }>(
    `${apiUrl}/api/credentials`,
    { token },
  );
  const host = targets.body.targets.find((t) => t.name === target);
  const user = credentials.body.credentials.find((c) => c.name === `${target}-ssh`)?.username;
  if (!host || !user) throw new Error(`no demo host ${target} in the inventory`);
  const { stdout } = await promisify(execFile)('ssh', [
    ...['-i', path.join(dataDir, 'demo', 'ssh-client-key'), '-p', String(host.services[0]?.port)],
    ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes'],
    ...['-o', 'LogLevel=ERROR', `${user}@${host.address}`, script],
  ]);
  return stdout;
};

/** The simulated Windows hosts' state, as their fleet keeps it in `.data/demo/windows-state.json`. */
export interface WindowsState {
  hosts: { name: string; services: Record<string, string>; files: Record<string, string | null> }[];
}
export const windowsState = (dataDir: string): WindowsState =>
  JSON.parse(readFileSync(path.join(dataDir, 'demo', 'windows-state.json'), 'utf8')) as WindowsState;
