import { afterAll, beforeAll, describe, it } from 'vitest';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
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
import { hostFiles, hostsThatDid, sshFacts, sshPlan } from './ssh-job.js';

// The SSH half of the chaos matrix: a 20-host script job (stop, replace the program with a backup,
// start, verify; 10 hosts at a time, rollback per target) under an operator's worst day. Each case
// has its own service and files on every host, so one case's leftovers never count in another's.
const SIZE = Number(process.env.OPSC_CHAOS_SSH_HOSTS ?? 20);
const GROUP = 'Chaos';
const CASES = ['exec-stop', 'exec-copy', 'exec-start', 'orch', 'both', 'pg', 'host'] as const;
const svc = (c: (typeof CASES)[number]) => `ch-${c}`;
const LOST = 3;

let h: SshHarness;
let s: ChaosServices;

beforeAll(async () => {
  h = await startSshHarness('chaos-ssh', {
    size: SIZE,
    host: () => ({
      services: Object.fromEntries(CASES.map((c) => [svc(c), 'active' as const])),
      packages: {},
      files: Object.assign({}, ...CASES.map((c) => hostFiles(svc(c)))) as Record<string, string>,
    }),
    groups: { [GROUP]: Array.from({ length: SIZE }, (_, i) => i) },
  });
  s = await startChaosServices(h.stack, h.orchestrator);
}, 240_000);

afterAll(async () => {
  await s?.close();
  await h?.close();
});

const sshCase = (
  c: (typeof CASES)[number],
  fault: string,
  inject: (jobId: string) => Promise<number>,
  expected: Expectation = { status: 'completed' },
  extra: Partial<ChaosCase> = {},
): ChaosCase => ({
  workload: 'ssh script job',
  hosts: SIZE,
  fault,
  start: () => submitApproved(s, { plan: sshPlan(svc(c), GROUP) }),
  inject,
  expected,
  facts: () => sshFacts(h.fleet, svc(c)),
  ...extra,
});

/** Waits until some host has journalled the step's change (the step is then in its after-change run), then SIGKILLs the executor and starts another. */
const killExecutorDuring = (c: (typeof CASES)[number], what: 'stop' | 'replace' | 'start') => async () => {
  await waitUntil(async () => (await hostsThatDid(h.fleet, svc(c), what)).length > 0, `a host to ${what} ${svc(c)}`);
  await s.killExecutor();
  const at = Date.now();
  await s.startExecutor();
  return at;
};

describe('the SSH script job under faults', () => {
  it(
    'SIGKILL of the executor during the stop step (the script prints after the kill)',
    () =>
      runCase(
        s,
        h.stack,
        sshCase('exec-stop', 'SIGKILL executor during stop', killExecutorDuring('exec-stop', 'stop')),
      ),
    240_000,
  );

  it(
    'SIGKILL of the executor during the copy step (the script prints after the kill)',
    () =>
      runCase(
        s,
        h.stack,
        sshCase('exec-copy', 'SIGKILL executor during copy', killExecutorDuring('exec-copy', 'replace')),
      ),
    240_000,
  );

  it(
    'SIGKILL of the executor during the start step (the script prints after the kill)',
    () =>
      runCase(
        s,
        h.stack,
        sshCase('exec-start', 'SIGKILL executor during start', killExecutorDuring('exec-start', 'start')),
      ),
    240_000,
  );

  it(
    'SIGKILL of the orchestrator mid-job',
    () =>
      runCase(
        s,
        h.stack,
        sshCase('orch', 'SIGKILL orchestrator', async () => {
          await waitUntil(async () => (await hostsThatDid(h.fleet, svc('orch'), 'stop')).length > 0, 'a host to stop');
          await s.killOrchestrator();
          const at = Date.now();
          await s.startOrchestrator();
          return at;
        }),
      ),
    240_000,
  );

  it(
    'SIGKILL of the orchestrator and the executor at once',
    () =>
      runCase(
        s,
        h.stack,
        sshCase('both', 'SIGKILL orchestrator + executor', async () => {
          await waitUntil(
            async () => (await hostsThatDid(h.fleet, svc('both'), 'replace')).length > 0,
            'a host to replace its file',
          );
          await Promise.all([s.killOrchestrator(), s.killExecutor()]);
          const at = Date.now();
          await Promise.all([s.startOrchestrator(), s.startExecutor()]);
          return at;
        }),
      ),
    240_000,
  );

  it(
    `PostgreSQL down ${PG_OUTAGE_SECONDS} s mid-job (every service's connections cut)`,
    () =>
      runCase(
        s,
        h.stack,
        sshCase(
          'pg',
          `PostgreSQL down ${PG_OUTAGE_SECONDS} s`,
          async () => {
            await waitUntil(async () => (await hostsThatDid(h.fleet, svc('pg'), 'stop')).length > 0, 'a host to stop');
            return databaseOutage(s);
          },
          undefined,
          { faultSeconds: PG_OUTAGE_SECONDS },
        ),
      ),
    240_000 + PG_OUTAGE_SECONDS * 1_000,
  );

  it('a target host killed (its sshd and everything on it) during the copy step', () => {
    const lost = h.fleet.hosts[LOST]!.name;
    return runCase(
      s,
      h.stack,
      sshCase(
        'host',
        `host ${lost} killed during copy`,
        async () => {
          await waitUntil(
            async () => (await hostsThatDid(h.fleet, svc('host'), 'replace')).includes(LOST),
            `${lost} to replace its file`,
          );
          const at = Date.now();
          await h.fleet.stopHost(LOST);
          return at;
        },
        { status: 'failed', lost },
        { facts: () => sshFacts(h.fleet, svc('host'), new Set([LOST])), heal: () => h.fleet.startHost(LOST) },
      ),
    );
  }, 240_000);
});
