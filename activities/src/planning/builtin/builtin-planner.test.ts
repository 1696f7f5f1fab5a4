import { beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedTarget, TargetSelector } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import { TargetResolutionError, validatePlan } from '../validate/validate-plan.js';
import { builtinPlan, type PlannerAnswer } from './builtin-planner.js';
import type { InventorySketch } from './entities.js';

const host = (name: string, os: 'linux' | 'windows'): ResolvedTarget => ({
  id: name,
  name,
  address: '127.0.0.1',
  os,
  tags: [],
  services: [os === 'linux' ? { protocol: 'ssh', port: 22, credentialId: 'c' } : { protocol: 'winrm', scheme: 'http', port: 5985, transport: 'ntlm', verifyCertificate: true, credentialId: 'c' }],
});
const range = (prefix: string, n: number, os: 'linux' | 'windows') => Array.from({ length: n }, (_, i) => host(`${prefix}-${String(i + 1).padStart(2, '0')}`, os));
const GROUPS: Record<string, ResolvedTarget[]> = {
  'CIS servers': range('cis', 25, 'windows'),
  'Production Web': range('web', 10, 'linux'),
  'Data Processing': [...range('dp-lnx', 7, 'linux'), ...range('dp-win', 5, 'windows')],
  'Web Servers': range('websrv', 4, 'linux'),
  Databases: range('db', 3, 'linux'),
};
const SINGLES = [host('web-server-01', 'linux'), host('web-server-02', 'linux'), host('db-01', 'linux'), host('win-app-01', 'windows'), host('app01', 'windows')];
const inventory: InventorySketch = {
  groups: Object.entries(GROUPS).map(([name, t]) => ({ name, size: t.length })),
  targets: [...Object.values(GROUPS).flat(), ...SINGLES].map((t) => ({ name: t.name, os: t.os })),
};
const resolveTargets = async (s: TargetSelector): Promise<ResolvedTarget[]> => {
  if (s.group && !GROUPS[s.group]) throw new TargetResolutionError([{ path: 'group', message: `no group named "${s.group}"` }]);
  const everyone = [...Object.values(GROUPS).flat(), ...SINGLES];
  const named = (s.targets ?? []).map((n) => everyone.find((t) => t.name === n));
  if (named.some((t) => !t)) throw new TargetResolutionError([{ path: 'targets', message: 'unknown target' }]);
  return [...(s.group ? (GROUPS[s.group] ?? []) : []), ...(named as ResolvedTarget[])].filter((t) => !s.os || t.os === s.os);
};

let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});
const plan = (request: string): PlannerAnswer => builtinPlan({ request, inventory, catalog });
const toolsOf = (answer: PlannerAnswer) => (answer.kind === 'plan' ? answer.draft.steps.map((s) => s.tool) : 'refused');
const validated = async (request: string) => {
  const answer = plan(request);
  if (answer.kind !== 'plan') throw new Error(`refused: ${answer.message}`);
  return { answer, result: await validatePlan(answer.draft, { catalog, resolveTargets }) };
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
    expect(answer.kind === 'plan' && answer.draft.policies).toMatchObject({ continueOnFailure: true, rollback: 'target' });
    expect(answer.kind === 'plan' && answer.expectedTargets).toEqual({ count: 25, os: 'windows' });
    expect(answer.kind === 'plan' && answer.notes).toContain("every target's result and output is recorded with the job");
    // The request does not say which file: the planner asks instead of guessing.
    expect(result.status).toBe('needs-input');
    expect(result.missing.map((m) => m.path)).toEqual(['steps.2.params.source', 'steps.2.params.destination']);

    steps[2]!.params = { source: 'stationcontroller/2.0/stationcontroller.exe', destination: 'C:\\Program Files\\StationController\\stationcontroller.exe' };
    const filled = await validatePlan(answer.kind === 'plan' ? answer.draft : {}, { catalog, resolveTargets });
    expect(filled.status).toBe('ready');
    expect(filled.summary).toMatchObject({ targets: { total: 25, byOs: { windows: 25 } }, risk: 'change', approvalRequired: true });
    expect(filled.plan?.steps.find((s) => s.id === 'file-copy')?.rollback?.tool).toBe('file-restore');
    expect(filled.plan?.steps.find((s) => s.id === 'stop')?.rollback?.tool).toBe('service-start');
  });

  it('linux-nginx-update: version, back up /etc/nginx, update, restart, verify; rollbacks restore the config and the previous version', async () => {
    const { answer, result } = await validated("Update nginx to latest version on all web servers in 'Production Web' group and restart service");
    expect(toolsOf(answer)).toEqual(['package-version', 'config-backup', 'package-update', 'service-restart', 'service-wait']);
    expect(result.status).toBe('ready');
    const steps = result.plan?.steps ?? [];
    expect(steps[1]?.action).toMatchObject({ method: 'ssh', operation: { op: 'config-backup', paths: ['/etc/nginx'] } });
    expect(steps[1]?.rollback?.action).toMatchObject({ operation: { op: 'config-restore', archive: '{{facts.archive}}' } });
    expect(steps[2]?.rollback?.action).toMatchObject({ operation: { op: 'package', action: 'install', name: 'nginx', version: '{{facts.previous_version}}' } });
    expect(steps[4]?.action).toMatchObject({ operation: { op: 'service-wait', name: 'nginx', state: 'active' } });
    expect(result.summary?.targets.total).toBe(10);
  });

  it('mixed-stop-dataprocessor: one request, SSH for the Linux targets and WinRM for the Windows ones', async () => {
    const { answer, result } = await validated("Stop 'dataprocessor' service on all servers in 'Data Processing' group");
    expect(toolsOf(answer)).toEqual(['service-stop']);
    expect(result.plan?.steps.map((s) => [s.action.method, s.targets?.os])).toEqual([
      ['ssh', 'linux'],
      ['winrm', 'windows'],
    ]);
    expect(result.summary?.targets).toEqual({ total: 12, byOs: { linux: 7, windows: 5 } });
  });

  it('ping-from-executor: a read-only ping from the executor, no approval (planned, never sent)', async () => {
    const { answer, result } = await validated('Ping 192.168.1.100');
    expect(toolsOf(answer)).toEqual(['ping']);
    expect(result.plan?.steps[0]?.action).toMatchObject({ method: 'local-command', command: 'ping', args: ['-c', '4', '-W', '2', '--', '192.168.1.100'] });
    expect(result.summary).toMatchObject({ risk: 'read', approvalRequired: false });
  });

  it('disk-space: a read-only df on web-server-01 over SSH, no approval', async () => {
    const { answer, result } = await validated('Check disk space on web-server-01');
    expect(toolsOf(answer)).toEqual(['disk-space']);
    expect(result.plan?.steps[0]).toMatchObject({ targets: { targets: ['web-server-01'] }, action: { method: 'ssh', operation: { op: 'disk-usage', path: '/' } } });
    expect(result.summary).toMatchObject({ risk: 'read', approvalRequired: false });
  });
});

// Other phrasings of the same intents, and requests to refuse. [request, tools in order | 'refused'].
const PHRASINGS: [string, string[] | 'refused'][] = [
  ["On the CIS servers group: is stationcontroller.exe running? Stop the stationcontroller service, deploy the new stationcontroller.exe to C:\\Program Files\\SC\\stationcontroller.exe, start it again and make sure it's up", ['process-check', 'service-stop', 'file-copy', 'service-start', 'service-wait']],
  ['check whether stationcontroller.exe is running on CIS servers', ['process-check']],
  ['stop stationcontroller on the 25 servers in "CIS servers", copy the new exe, start it, verify', ['service-stop', 'file-copy', 'service-start', 'service-wait']],
  ["restart the stationcontroller service on group 'CIS servers'", ['service-restart', 'service-wait']],
  ['Upgrade nginx on Production Web and restart it', ['package-version', 'config-backup', 'package-update', 'service-restart', 'service-wait']],
  ['please update the nginx package on the Production Web servers', ['package-version', 'config-backup', 'package-update']],
  ['update nginx to the latest version on Production Web, 2 at a time', ['package-version', 'config-backup', 'package-update']],
  ['patch haproxy on web-server-01 then bounce haproxy', ['package-version', 'config-backup', 'package-update', 'service-restart', 'service-wait']],
  ['what version of nginx is installed on Production Web?', ['package-version']],
  ['show the openssl version on db-01', ['package-version']],
  ['install htop on db-01', ['package-install']],
  ['install htop version 3.2.2-2 on web-server-01 and web-server-02', ['package-install']],
  ['uninstall telnet from the Databases group', ['package-remove']],
  ['stop the dataprocessor service on Data Processing', ['service-stop']],
  ['Data Processing: stop dataprocessor', ['service-stop']],
  ["halt 'dataprocessor' on every server in 'Data Processing'", ['service-stop']],
  ['start dataprocessor on Data Processing', ['service-start', 'service-wait']],
  ['restart nginx on Production Web one at a time', ['service-restart', 'service-wait']],
  ['please bounce the nginx service on web-server-01', ['service-restart', 'service-wait']],
  ['recycle the W3SVC service on app01', ['service-restart', 'service-wait']],
  ['is nginx running on web-server-02?', ['process-check']],
  ['check the status of the nginx service on Production Web', ['service-status']],
  ['get the state of the spooler service on win-app-01', ['service-status']],
  ['verify that nginx is up on web-server-01', ['service-wait']],
  ['make sure the sshd service is running on Databases', ['service-wait']],
  ['Ping 127.0.0.2', ['ping']],
  ['can you ping example.org', ['ping']],
  ['ping web-server-01', ['ping']],
  ['is 10.0.0.5 reachable? ping it', ['ping']],
  ['traceroute to example.org', ['traceroute']],
  ['trace the route to 127.0.0.3', ['traceroute']],
  ['check https://status.example.org/health answers', ['http-check']],
  ['is http://127.0.0.1:8080/ up?', ['http-check']],
  ['how much disk space is left on Databases', ['disk-space']],
  ['check free space of /var on web-server-01', ['disk-space']],
  ['df on the Production Web group', ['disk-space']],
  ['show disk usage on db-01', ['disk-space']],
  ['show me errors in the System event log on win-app-01 from the last 2 hours', ['event-log-query']],
  ['read the application event log on CIS servers', ['event-log-query']],
  ['any critical events in the event log on app01 today?', ['event-log-query']],
  ['run `uptime` on Production Web', ['run-command']],
  ['execute `hostname` on app01', ['run-command']],
  ['run the script `systemctl daemon-reload; systemctl restart app` on web-server-01', ['run-script']],
  ['back up /etc/haproxy on Production Web', ['config-backup']],
  ['take a backup of /etc/nginx on web-server-01 then restart nginx', ['config-backup', 'service-restart', 'service-wait']],
  ['copy build/app-2.1.exe to C:\\Program Files\\App\\app.exe on win-app-01', ['file-copy']],
  ['push releases/app.tar.gz to /opt/app/app.tar.gz on Production Web', ['file-copy']],
  ['upload the new config file to /etc/app/app.conf on db-01 and restart app', ['file-copy', 'service-restart', 'service-wait']],
  ['stop nginx on web-server-01, copy dist/nginx.conf to /etc/nginx/nginx.conf, start nginx', ['service-stop', 'file-copy', 'service-start', 'service-wait']],
  ['check if nginx is running, then restart nginx on Production Web and log the results', ['process-check', 'service-restart', 'service-wait']],
  ['Stop the stationcontroller service on CIS servers and stop on the first failure', ['service-stop']],
  ['restart nginx on Production Web, roll back everything if anything fails', ['service-restart', 'service-wait']],
  // Refusals: nothing a tool does, or something the planner must not guess at.
  ['reboot all servers in Production Web', 'refused'],
  ['make me a sandwich', 'refused'],
  ['delete all logs on Databases', 'refused'],
  ['drop the production database', 'refused'],
  ['format the disks on CIS servers', 'refused'],
  ['kill the stationcontroller.exe process on CIS servers', 'refused'],
  ['shut down web-server-01', 'refused'],
  ['what is the weather like?', 'refused'],
  ['restart nginx', 'refused'],
  ['stop all services everywhere', 'refused'],
  ['create user bob on Databases', 'refused'],
  ['open port 8080 in the firewall on web-server-01', 'refused'],
  ['', 'refused'],
];

describe('the built-in planner on other phrasings', () => {
  it('has a corpus of at least 60 phrasings beyond the seeds, refusals included', () => {
    expect(PHRASINGS.length).toBeGreaterThanOrEqual(60);
    expect(PHRASINGS.filter(([, t]) => t === 'refused').length).toBeGreaterThanOrEqual(10);
  });

  it.each(PHRASINGS)('%s', async (request, tools) => {
    const answer = plan(request);
    expect(toolsOf(answer)).toEqual(tools);
    if (answer.kind === 'refusal') {
      expect(answer.message).toMatch(/can't plan|Which servers|empty/);
      return;
    }
    const result = await validatePlan(answer.draft, { catalog, resolveTargets });
    // Every plan it makes is valid, or asks for what the request left out: never an invalid guess.
    expect(result.issues.filter((i) => !result.missing.some((m) => m.path === i.path))).toEqual([]);
  });

  it('reads parallelism, stop-on-failure and rollback policies from the request', () => {
    const policies = (r: string) => (plan(r) as Extract<PlannerAnswer, { kind: 'plan' }>).draft.policies;
    expect(policies('restart nginx on Production Web one at a time')).toMatchObject({ maxParallel: 1 });
    expect(policies('update nginx to the latest version on Production Web, 2 at a time')).toMatchObject({ maxParallel: 2 });
    expect(policies('Stop the stationcontroller service on CIS servers and stop on the first failure')).toMatchObject({ continueOnFailure: false, maxFailPercentage: 0 });
    expect(policies('restart nginx on Production Web, roll back everything if anything fails')).toMatchObject({ rollback: 'all' });
  });

  it('names the closest tools when it refuses', () => {
    const answer = plan('reboot all servers in Production Web');
    expect(answer.kind === 'refusal' && answer.closestTools).toContain('run-script');
    const none = plan('restart nginx');
    expect(none.kind === 'refusal' && none.message).toMatch(/Which servers should I act on\? Name a group \('CIS servers'/);
  });

  it('passes an unknown group on for the validator to name, instead of picking another', async () => {
    const { result } = await validated("restart nginx on the 'Staging Web' servers");
    expect(result.issues).toContainEqual({ path: 'steps.0.targets.group', message: 'no group named "Staging Web"' });
  });
});
