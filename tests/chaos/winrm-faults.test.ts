import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ensureTemporalBinary, startDevServer, type DevServerOptions, type RunningDevServer } from '@opsc/temporal';
import { freePort } from '../support/free-port.js';
import { startWinrmHarness, type WinrmHarness } from '../support/winrm-harness.js';
import {
  PG_OUTAGE_SECONDS,
  databaseOutage,
  runCase,
  startChaosServices,
  submitApproved,
  waitUntil,
  type ChaosCase,
  type ChaosServices,
} from './chaos-run.js';
import type { Expectation } from './host-checks.js';
import { ARTIFACT, OLD_EXE, exePath, hostsCopying, hostsStopped, winrmDraft, winrmFacts } from './winrm-job.js';
import { uploadArtifact } from '../support/artifacts.js';

// The WinRM half of the chaos matrix: the 25-host Windows change job under faults. This
// file has a Temporal dev server of its own, so one case can restart it without touching the
// suite's shared one. Each case has its own service and exe on every host.
const SIZE = Number(process.env.OPSC_CHAOS_WINRM_HOSTS ?? 25);
const GROUP = 'Chaos Windows';
const CASES = ['exec-copy', 'temporal', 'pg', 'host'] as const;
const svc = (c: (typeof CASES)[number]) => `Chaos-${c}`;
const LOST = 2;

let server: RunningDevServer;
let serverOptions: DevServerOptions;
let h: WinrmHarness;
let s: ChaosServices;
let newExe: Buffer;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-chaos-temporal-'));
  serverOptions = {
    binary: ensureTemporalBinary(),
    dbFile: path.join(dir, 'temporal.db'),
    port: await freePort(),
    uiPort: null,
    namespace: 'default',
    logFile: path.join(dir, 'temporal.log'),
  };
  server = await startDevServer(serverOptions);
  h = await startWinrmHarness('chaos-winrm', {
    size: SIZE,
    firstOctet: 200,
    temporalAddress: server.address,
    host: () => ({
      services: CASES.map((c) => ({
        name: svc(c),
        path: exePath(svc(c)),
        status: 'Running' as const,
        startDelayMs: 300,
        stopDelayMs: 300,
      })),
      files: Object.fromEntries(CASES.map((c) => [exePath(svc(c)), OLD_EXE])),
    }),
    groups: { [GROUP]: Array.from({ length: SIZE }, (_, i) => i) },
  });
  // Large enough that a copy takes a while over WS-Man, so a fault can land during one.
  newExe = randomBytes(1024 * 1024);
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, ARTIFACT, newExe);
  s = await startChaosServices(h.stack, h.orchestrator);
}, 240_000);

afterAll(async () => {
  await s?.close();
  await h?.close();
  await server?.stop();
});

const winrmCase = (
  c: (typeof CASES)[number],
  fault: string,
  inject: (jobId: string) => Promise<number>,
  expected: Expectation = { status: 'completed' },
  extra: Partial<ChaosCase> = {},
): ChaosCase => ({
  workload: 'winrm change job',
  hosts: SIZE,
  fault,
  start: () => submitApproved(s, { draft: winrmDraft(svc(c), GROUP) }),
  inject,
  expected,
  facts: () => winrmFacts(h.fleet, svc(c), newExe),
  ...extra,
});

describe('the WinRM change job under faults', () => {
  it(
    'SIGKILL of the executor during a file copy',
    () =>
      runCase(
        s,
        h.stack,
        winrmCase('exec-copy', 'SIGKILL executor during copy', async () => {
          await waitUntil(
            () => hostsCopying(h.fleet, svc('exec-copy')).length > 0,
            'a host to be receiving the new exe',
          );
          await s.killExecutor();
          const at = Date.now();
          await s.startExecutor();
          return at;
        }),
      ),
    300_000,
  );

  it(
    'a Temporal server restart mid-job',
    () =>
      runCase(
        s,
        h.stack,
        winrmCase('temporal', 'Temporal dev server restart', async () => {
          await waitUntil(() => hostsStopped(h.fleet, svc('temporal')).length > 0, 'a host to stop');
          const at = Date.now();
          await server.stop();
          server = await startDevServer(serverOptions);
          return at;
        }),
      ),
    300_000,
  );

  it(
    `PostgreSQL down ${PG_OUTAGE_SECONDS} s during the copies`,
    () =>
      runCase(
        s,
        h.stack,
        winrmCase(
          'pg',
          `PostgreSQL down ${PG_OUTAGE_SECONDS} s`,
          async () => {
            await waitUntil(() => hostsCopying(h.fleet, svc('pg')).length > 0, 'a host to be receiving the new exe');
            return databaseOutage(s);
          },
          undefined,
          { faultSeconds: PG_OUTAGE_SECONDS },
        ),
      ),
    300_000 + PG_OUTAGE_SECONDS * 1_000,
  );

  it("a target host's WinRM endpoint killed during its copy", () => {
    const lost = h.fleet.hosts[LOST]!.name;
    return runCase(
      s,
      h.stack,
      winrmCase(
        'host',
        `${lost}'s WinRM endpoint killed during copy`,
        async () => {
          await waitUntil(
            () => hostsCopying(h.fleet, svc('host')).includes(LOST),
            `${lost} to be receiving the new exe`,
          );
          const at = Date.now();
          await h.fleet.stopHost(LOST);
          return at;
        },
        { status: 'failed', lost },
        { heal: () => h.fleet.startHost(LOST) },
      ),
    );
  }, 300_000);
});
