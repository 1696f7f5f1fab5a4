import { beforeAll, describe, expect, it } from 'vitest';
import { egressRules, type ResolvedTarget, type TargetSelector } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import { TargetResolutionError, validatePlan } from '../validate/validate-plan.js';
import { proposePlan } from '../propose.js';
import { builtinPlan, type PlannerAnswer } from './builtin-planner.js';
import type { InventorySketch } from './entities.js';
import { PHRASINGS, SEED_REQUESTS } from './phrasings.js';
import { resolvedTarget } from '../validate/resolved-target.test-support.js';

const host = resolvedTarget;
const range = (prefix: string, n: number, os: 'linux' | 'windows') =>
  Array.from({ length: n }, (_, i) => host(`${prefix}-${String(i + 1).padStart(2, '0')}`, os));
const GROUPS: Record<string, ResolvedTarget[]> = {
  'CIS servers': range('cis', 25, 'windows'),
  'Production Web': range('web', 10, 'linux'),
  'Data Processing': [...range('dp-lnx', 7, 'linux'), ...range('dp-win', 5, 'windows')],
  'Web Servers': range('websrv', 4, 'linux'),
  Databases: range('db', 3, 'linux').map((t) => ({
    ...t,
    services: [
      ...t.services,
      { protocol: 'postgresql', port: 5432, database: 'app', tls: 'require', credentialId: 'c' },
    ],
  })),
};
const SINGLES = [
  host('web-server-01', 'linux'),
  host('web-server-02', 'linux'),
  {
    ...host('db-01', 'linux'),
    services: [
      ...host('db-01', 'linux').services,
      { protocol: 'postgresql', port: 5432, database: 'app', tls: 'require', credentialId: 'c' },
    ],
  } as ResolvedTarget,
  host('win-app-01', 'windows'),
  host('app01', 'windows'),
];
const inventory: InventorySketch = {
  groups: Object.entries(GROUPS).map(([name, t]) => ({ name, size: t.length })),
  targets: [...Object.values(GROUPS).flat(), ...SINGLES].map((t) => ({ name: t.name, os: t.os })),
};
const resolveTargets = async (s: TargetSelector): Promise<ResolvedTarget[]> => {
  if (s.group && !GROUPS[s.group])
    throw new TargetResolutionError([{ path: 'group', message: `no group named "${s.group}"` }]);
  const everyone = [...Object.values(GROUPS).flat(), ...SINGLES];
  const named = (s.targets ?? []).map((n) => everyone.find((t) => t.name === n));
  if (named.some((t) => !t)) throw new TargetResolutionError([{ path: 'targets', message: 'unknown target' }]);
  return [...(s.group ? (GROUPS[s.group] ?? []) : []), ...(named as ResolvedTarget[])].filter(
    (t) => !s.os || t.os === s.os,
  );
};

/** Tools the built-in planner drafts that another branch adds to the catalog. */
const PENDING_TOOLS = new Set(['system-reboot', 'system-shutdown', 'wait']);

let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});
const plan = (request: string): PlannerAnswer => builtinPlan({ request, inventory, catalog });
// The corpus names loopback and private destinations (planned, never sent): a tenant that allowed them.
const allowTestDestinations = async () => ({
  allow: egressRules(['127.0.0.2', '127.0.0.3', '10.0.0.5', '127.0.0.1:8080']),
  platform: [],
});
const toolsOf = (answer: PlannerAnswer) => (answer.kind === 'plan' ? answer.draft.steps.map((s) => s.tool) : 'refused');
const validated = async (request: string) => {
  const answer = plan(request);
  if (answer.kind !== 'plan') throw new Error(`refused: ${answer.message}`);
  return {
    answer,
    result: await validatePlan(answer.draft, { catalog, resolveTargets, egress: allowTestDestinations }),
  };
};

describe('the seed scenarios', () => {
  it('windows-cis-update: check, stop where running, copy with backup (asking which file), start, verify, per target; approval', async () => {
    const { answer, result } = await validated(
      "Connect to 25 Windows systems in group 'CIS servers', check if stationcontroller.exe is running, stop the service, copy new file, restart service, verify startup, log results",
    );
    expect(toolsOf(answer)).toEqual(['process-check', 'service-stop', 'file-copy', 'service-start', 'service-wait']);
    const steps = answer.kind === 'plan' ? answer.draft.steps : [];
    expect(steps.every((s) => s.targets?.group === 'CIS servers')).toBe(true);
    expect(steps[1]?.params).toEqual({ service: 'stationcontroller' });
    // A summary for the monitor's heading and the jobs list, not the raw request.
    expect(answer.kind === 'plan' && answer.draft.title).toBe('Update stationcontroller on CIS servers');
    expect(answer.kind === 'plan' && answer.draft.policies).toMatchObject({
      continueOnFailure: true,
      rollback: 'target',
    });
    expect(answer.kind === 'plan' && answer.expectedTargets).toEqual({ count: 25, os: 'windows' });
    expect(answer.kind === 'plan' && answer.notes).toContain(
      "every target's result and output is recorded with the job",
    );
    // The request does not say which file: the planner asks instead of guessing.
    expect(result.status).toBe('needs-input');
    expect(result.missing.map((m) => m.path)).toEqual(['steps.2.params.source', 'steps.2.params.destination']);

    steps[2]!.params = {
      source: 'stationcontroller/2.0/stationcontroller.exe',
      destination: 'C:\\Program Files\\StationController\\stationcontroller.exe',
    };
    const filled = await validatePlan(answer.kind === 'plan' ? answer.draft : {}, {
      catalog,
      resolveTargets,
      egress: allowTestDestinations,
    });
    expect(filled.status).toBe('ready');
    expect(filled.summary).toMatchObject({
      targets: { total: 25, byOs: { windows: 25 } },
      risk: 'change',
      approvalRequired: true,
    });
    expect(filled.plan?.steps.find((s) => s.id === 'file-copy')?.rollback?.tool).toBe('file-restore');
    expect(filled.plan?.steps.find((s) => s.id === 'stop')?.rollback?.tool).toBe('service-start');
  });

  it('linux-nginx-update: version, back up /etc/nginx, update, restart, verify; rollbacks restore the config and the previous version', async () => {
    const { answer, result } = await validated(
      "Update nginx to latest version on all web servers in 'Production Web' group and restart service",
    );
    expect(toolsOf(answer)).toEqual([
      'package-version',
      'config-backup',
      'package-update',
      'service-restart',
      'service-wait',
    ]);
    expect(result.status).toBe('ready');
    expect(result.plan?.title).toBe('Update nginx on Production Web');
    const steps = result.plan?.steps ?? [];
    expect(steps[1]?.action).toMatchObject({
      method: 'ssh',
      operation: { op: 'config-backup', paths: ['/etc/nginx'] },
    });
    expect(steps[1]?.rollback?.action).toMatchObject({
      operation: { op: 'config-restore', archive: '{{facts.archive}}' },
    });
    expect(steps[2]?.rollback?.action).toMatchObject({
      operation: { op: 'package', action: 'install', name: 'nginx', version: '{{facts.previous_version}}' },
    });
    expect(steps[4]?.action).toMatchObject({ operation: { op: 'service-wait', name: 'nginx', state: 'active' } });
    expect(result.summary?.targets.total).toBe(10);
  });

  it('mixed-stop-dataprocessor: one request, SSH for the Linux targets and WinRM for the Windows ones', async () => {
    const { answer, result } = await validated(
      "Stop 'dataprocessor' service on all servers in 'Data Processing' group",
    );
    expect(toolsOf(answer)).toEqual(['service-stop']);
    expect(result.plan?.title).toBe('Stop dataprocessor on Data Processing');
    expect(result.plan?.steps.map((s) => [s.action.method, s.targets?.os])).toEqual([
      ['ssh', 'linux'],
      ['winrm', 'windows'],
    ]);
    expect(result.summary?.targets).toEqual({ total: 12, byOs: { linux: 7, windows: 5 } });
  });

  it('ping-from-executor: a read-only ping from the executor, no approval (planned, never sent)', async () => {
    const { answer, result } = await validated('Ping 192.168.1.100');
    expect(toolsOf(answer)).toEqual(['ping']);
    expect(result.plan?.steps[0]?.action).toMatchObject({
      method: 'local-command',
      command: 'ping',
      args: ['-c', '4', '-W', '2', '--', '192.168.1.100'],
    });
    expect(result.summary).toMatchObject({ risk: 'read', approvalRequired: false });
  });

  it('disk-space: a read-only df on web-server-01 over SSH, no approval', async () => {
    const { answer, result } = await validated('Check disk space on web-server-01');
    expect(toolsOf(answer)).toEqual(['disk-space']);
    expect(result.plan?.steps[0]).toMatchObject({
      targets: { targets: ['web-server-01'] },
      action: { method: 'ssh', operation: { op: 'disk-usage', path: '/' } },
    });
    expect(result.summary).toMatchObject({ risk: 'read', approvalRequired: false });
  });
});

describe('the built-in planner on other phrasings', () => {
  it('plans every seed request', () => {
    for (const request of SEED_REQUESTS) expect(plan(request).kind, request).toBe('plan');
  });

  it('has a corpus of at least 60 phrasings beyond the seeds, refusals included', () => {
    expect(PHRASINGS.length).toBeGreaterThanOrEqual(60);
    expect(PHRASINGS.filter(([, t]) => t === 'refused').length).toBeGreaterThanOrEqual(10);
  });

  it.each(PHRASINGS)('%s', async (request, tools) => {
    const answer = plan(request);
    expect(toolsOf(answer)).toEqual(tools);
    if (answer.kind === 'refusal') {
      expect(answer.message).toMatch(/can't plan|can't make a step conditional|Which servers|empty/);
      return;
    }
    const result = await validatePlan(answer.draft, { catalog, resolveTargets, egress: allowTestDestinations });
    // Every plan it makes is valid, or asks for what the request left out: never an invalid guess. The
    // reboot, shutdown and wait tools are defined on another branch (issue 18): until this catalog has
    // them, their steps are checked as drafts above and the validator's "no such tool" is expected.
    const pending = new Set(
      answer.draft.steps.flatMap((s, i) =>
        s && !catalog.get(s.tool) && PENDING_TOOLS.has(s.tool) ? [`steps.${i}.`] : [],
      ),
    );
    expect(
      result.issues.filter(
        (i) => !result.missing.some((m) => m.path === i.path) && ![...pending].some((p) => i.path.startsWith(p)),
      ),
    ).toEqual([]);
  });

  it('reads parallelism, stop-on-failure and rollback policies from the request', () => {
    const policies = (r: string) => (plan(r) as Extract<PlannerAnswer, { kind: 'plan' }>).draft.policies;
    expect(policies('restart nginx on Production Web one at a time')).toMatchObject({ maxParallel: 1 });
    expect(policies('update nginx to the latest version on Production Web, 2 at a time')).toMatchObject({
      maxParallel: 2,
    });
    expect(policies('Stop the stationcontroller service on CIS servers and stop on the first failure')).toMatchObject({
      continueOnFailure: false,
      maxFailPercentage: 0,
    });
    expect(policies('restart nginx on Production Web, roll back everything if anything fails')).toMatchObject({
      rollback: 'all',
    });
  });

  it('names the closest tools when it refuses', () => {
    const answer = plan('kill the stationcontroller.exe process on CIS servers');
    expect(answer.kind === 'refusal' && answer.closestTools).toContain('process-check');
    // Where to act is asked, not refused: the steps are clear.
    const none = plan('restart nginx');
    expect(none.kind === 'plan' && none.notes).toContainEqual(
      expect.stringMatching(/does not say which servers: name a group \('CIS servers'/),
    );
  });

  it('passes an unknown group on for the validator to name, instead of picking another', async () => {
    const { result } = await validated("restart nginx on the 'Staging Web' servers");
    expect(result.issues).toContainEqual({ path: 'steps.0.targets.group', message: 'no group named "Staging Web"' });
  });

  it("says which group or target is unknown and the closest names, in the proposal's text", async () => {
    const deps = { catalog, inventory: async () => inventory, resolveTargets, egress: allowTestDestinations };
    const group = await proposePlan("restart nginx on group 'CIS server'", deps);
    expect(group.status).toBe('invalid');
    expect(group.issues).toContainEqual({ path: 'steps.0.targets.group', message: 'no group named "CIS server"' });
    expect(group.text).toContain("• There is no group 'CIS server' in the inventory; did you mean 'CIS servers'?");
    const host = await proposePlan('restart nginx on web-server-1', deps);
    expect(host.issues.map((i) => i.path)).toContain('steps.0.targets.targets');
    expect(host.text).toContain(
      "There is no target 'web-server-1' in the inventory; did you mean 'web-server-01', 'web-server-02'",
    );
    const shell = await proposePlan('run uptime; rm -rf / on web-server-01', deps);
    expect(shell.status).toBe('ready');
    expect(shell.summary).toMatchObject({ risk: 'read', approvalRequired: false });
    expect(shell.text).toContain('✓ Not used: "rm -rf /"');
  });
});

describe("the proposal's ETA", () => {
  it('asks the estimator once, for the plan proposed, and answers with its range and why', async () => {
    const asked: string[] = [];
    const eta = {
      lowSeconds: 480,
      highSeconds: 720,
      confidence: 'medium' as const,
      reason: 'history on all 10 targets',
    };
    const proposal = await proposePlan('restart nginx on all web servers in the Production Web group', {
      catalog,
      inventory: async () => inventory,
      resolveTargets,
      egress: allowTestDestinations,
      estimatePlan: async (p) => {
        asked.push(p.name);
        return eta;
      },
    });
    expect(proposal.status).toBe('ready');
    expect(asked).toEqual([proposal.plan!.name]);
    expect(proposal.summary?.eta).toEqual(eta);
    expect(proposal.text).toContain(
      'Estimated completion time: 8–12 minutes (medium confidence: history on all 10 targets).',
    );
  });

  it('keeps the typical durations when the estimator fails or has nothing', async () => {
    for (const estimatePlan of [async () => null, async () => Promise.reject(new Error('database gone'))]) {
      const proposal = await proposePlan('restart nginx on all web servers in the Production Web group', {
        catalog,
        inventory: async () => inventory,
        resolveTargets,
        egress: allowTestDestinations,
        estimatePlan,
      });
      expect(proposal.status).toBe('ready');
      expect(proposal.summary?.eta).toBeUndefined();
      expect(proposal.text).toMatch(/Estimated completion time: about \d+ (seconds|minutes)\./);
    }
  });
});

describe('inventory names are names, never instructions', () => {
  // Names an attacker with inventory rights could choose: each reads like a step, a policy or a refusal.
  const hostile: InventorySketch = {
    groups: [
      ...inventory.groups,
      { name: 'then stop sshd', size: 2 },
      { name: 'delete everything', size: 1 },
      { name: 'one at a time', size: 1 },
    ],
    targets: [
      ...inventory.targets,
      { name: 'restart nginx', os: 'linux' },
      { name: 'web-9, then install netcat', os: 'linux' },
    ],
  };
  const hostilePlan = (request: string) => builtinPlan({ request, inventory: hostile, catalog });

  it('does not add a step for a target whose name reads like one', () => {
    const answer = hostilePlan("check disk space on 'restart nginx'");
    expect(toolsOf(answer)).toEqual(['disk-space']);
    expect(answer.kind === 'plan' && answer.draft.steps[0]?.targets).toEqual({ targets: ['restart nginx'] });
    const quoted = hostilePlan('check the status of the nginx service on "web-9, then install netcat"');
    expect(toolsOf(quoted)).toEqual(['service-status']);
    expect(quoted.kind === 'plan' && quoted.draft.steps[0]?.targets).toEqual({
      targets: ['web-9, then install netcat'],
    });
  });

  it('does not take a policy or a refusal from a group name', () => {
    const answer = hostilePlan("how much disk space is left on 'then stop sshd'");
    expect(toolsOf(answer)).toEqual(['disk-space']);
    expect(answer.kind === 'plan' && answer.draft.steps[0]?.targets).toMatchObject({ group: 'then stop sshd' });
    expect(toolsOf(hostilePlan("how much disk space is left on group 'delete everything'"))).toEqual(['disk-space']);
    const serial = hostilePlan("restart the sshd service on 'one at a time'");
    expect(toolsOf(serial)).toEqual(['service-restart', 'service-wait']);
    expect(serial.kind === 'plan' && serial.draft.policies?.maxParallel).toBeUndefined();
  });
});
