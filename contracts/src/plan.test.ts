import { describe, expect, it } from 'vitest';
import { Plan, stepNumber } from './plan.js';
import { actionRisk, maxRisk, toolKeyOf } from './risk.js';
import type { RiskLevel } from './tools.js';
import { localCommandProfile } from './local-commands.js';
import { toFieldIssues } from './issues.js';

const planWith = (action: unknown) => ({ name: 'p', steps: [{ id: 's1', name: 'Step', action }] });
const issuesOf = (input: unknown) => {
  const parsed = Plan.safeParse(input);
  return parsed.success ? [] : toFieldIssues(parsed.error);
};

describe('Plan', () => {
  it('fills defaults for a minimal local command', () => {
    const plan = Plan.parse(planWith({ method: 'local-command', command: 'uptime' }));
    expect(plan.policies).toEqual({
      continueOnFailure: false,
      maxAttempts: 3,
      maxParallel: 25,
      maxFailPercentage: 100,
      onFailThreshold: 'abort',
      decisionTimeoutSeconds: 3600,
      rollback: 'none',
      approvalRequired: false,
    });
    expect(plan.steps[0]).toMatchObject({ timeoutSeconds: 300, action: { args: [], successExitCodes: [0] } });
  });

  it.each([
    ['; rm -rf /', ';'],
    ['$(curl evil)', '$'],
    ['`id`', '`'],
    ['a && b', '&'],
    ['x | y', '|'],
    ['> /etc/passwd', '>'],
    ['line\nbreak', 'newline'],
  ])('refuses the argument %j (%s), naming its path', (arg) => {
    expect(issuesOf(planWith({ method: 'local-command', command: 'echo', args: ['ok', arg] }))).toEqual([
      expect.objectContaining({
        path: 'steps.0.action.args.1',
        message: expect.stringContaining('shell metacharacters'),
      }),
    ]);
  });

  it('accepts plain arguments with spaces, dots, dashes, colons and slashes', () => {
    expect(
      issuesOf(
        planWith({
          method: 'local-command',
          command: '/usr/bin/ping',
          args: ['-c', '4', 'host-01.example', 'a b:c/d'],
        }),
      ),
    ).toEqual([]);
  });

  it.each(['echo hi', 'rm;', '../bin/x', 'C:\\tools\\x.exe'])('refuses the program name %j', (command) => {
    expect(issuesOf(planWith({ method: 'local-command', command })).map((i) => i.path)).toEqual([
      'steps.0.action.command',
    ]);
  });

  it('names an unknown execution method', () => {
    expect(issuesOf(planWith({ method: 'telnet', command: 'x' })).map((i) => i.path)).toEqual([
      'steps.0.action.method',
    ]);
  });

  it('accepts http(s) URLs only and refuses header injection', () => {
    expect(issuesOf(planWith({ method: 'http', url: 'ftp://host/x' })).map((i) => i.path)).toEqual([
      'steps.0.action.url',
    ]);
    expect(
      issuesOf(planWith({ method: 'http', url: 'https://host/x', headers: { 'x-a': 'v\r\nx-evil: 1' } })).map(
        (i) => i.path,
      ),
    ).toEqual(['steps.0.action.headers.x-a']);
    expect(
      issuesOf(planWith({ method: 'http', url: 'https://127.0.0.1:8443/health', expectStatus: [200, 204] })),
    ).toEqual([]);
  });

  it('refuses duplicate step ids and empty plans', () => {
    const step = { id: 'a', name: 'A', action: { method: 'local-command', command: 'true' } };
    expect(issuesOf({ name: 'p', steps: [step, step] }).map((i) => i.path)).toEqual(['steps.1.id']);
    expect(issuesOf({ name: 'p', steps: [] }).map((i) => i.path)).toEqual(['steps']);
  });
});

/** A plan's worst action: what the server's gate starts from (it adds the catalog and flagged content). */
const planRisk = (plan: Plan): RiskLevel =>
  plan.steps.map((s) => actionRisk(s.action)).reduce<RiskLevel>(maxRisk, 'read');
const planNeedsApproval = (plan: Plan): boolean => plan.policies.approvalRequired || planRisk(plan) !== 'read';

describe('plan risk', () => {
  it('counts a look as read, a change as change, and takes the worst step', () => {
    const look = Plan.parse({
      name: 'look',
      steps: [
        {
          id: 'v',
          name: 'v',
          targets: { group: 'g' },
          action: { method: 'ssh', operation: { op: 'package', action: 'version', name: 'nginx' } },
        },
      ],
    });
    expect(planRisk(look)).toBe('read');
    expect(planNeedsApproval(look)).toBe(false);
    const change = Plan.parse({
      name: 'change',
      steps: [
        ...look.steps,
        {
          id: 'r',
          name: 'r',
          targets: { group: 'g' },
          action: { method: 'winrm', operation: { op: 'service', action: 'restart', name: 'svc' } },
        },
      ],
    });
    expect(change.steps.map((s) => actionRisk(s.action))).toEqual(['read', 'change']);
    expect(planNeedsApproval(change)).toBe(true);
    const writes = Plan.parse({
      name: 'sql',
      steps: [
        {
          id: 'q',
          name: 'q',
          targets: { group: 'g' },
          action: { method: 'database', query: 'DELETE FROM t', allowWrites: true },
        },
      ],
    });
    expect(planRisk(writes)).toBe('destructive');
    expect(toolKeyOf(change.steps[1]!)).toBe('winrm:service');
  });
});

describe('risk is computed from the action, never declared', () => {
  const one = (action: unknown, tool?: unknown) =>
    Plan.parse({ name: 'p', steps: [{ id: 's', name: 's', action, ...(tool !== undefined && { tool }) }] });

  it('does not let a step call its own PowerShell script read', () => {
    const plan = Plan.parse({
      name: 'p',
      steps: [
        {
          id: 's',
          name: 's',
          targets: { group: 'g' },
          action: { method: 'winrm', operation: { op: 'powershell', script: 'Stop-Service x' } },
          tool: { name: 'service-status', risk: 'read', params: {}, typicalDurationSeconds: 1 },
        },
      ],
    });
    expect(actionRisk(plan.steps[0]!.action)).toBe('change');
    expect(planNeedsApproval(plan)).toBe(true);
  });

  it('counts only GET and HEAD as read-only HTTP', () => {
    expect(planRisk(one({ method: 'http', url: 'https://example.org/' }))).toBe('read');
    expect(planRisk(one({ method: 'http', url: 'https://example.org/', httpMethod: 'HEAD' }))).toBe('read');
    for (const httpMethod of ['POST', 'PUT', 'PATCH', 'DELETE'])
      expect(planRisk(one({ method: 'http', url: 'https://example.org/', httpMethod }))).toBe('change');
  });

  it('counts a local command read-only only in an argv-exact shape', () => {
    const risk = (command: string, args: string[] = []) => planRisk(one({ method: 'local-command', command, args }));
    expect(risk('date')).toBe('read');
    expect(risk('date', ['+%F'])).toBe('read');
    expect(risk('date', ['-f', '/etc/passwd'])).toBe('change');
    expect(risk('hostname')).toBe('read');
    expect(risk('hostname', ['evil'])).toBe('change');
    expect(risk('curl', ['file:///etc/passwd'])).toBe('change');
    expect(risk('curl', ['-o', '/tmp/x', 'http://example.org/'])).toBe('change');
    expect(risk('uptime')).toBe('read');
    expect(risk('/usr/bin/uptime')).toBe('change');
    expect(risk('ping', ['-c', '2', '-W', '2', '--', 'example.org'])).toBe('read');
    expect(risk('ping', ['-f', 'example.org'])).toBe('change');
    expect(risk('sleep', ['5'])).toBe('read');
    expect(risk('sleep')).toBe('change');
    expect(risk('df', ['-h'])).toBe('read');
    expect(risk('nc', ['-z', '127.0.0.1', '7233'])).toBe('change');
  });

  it('names the hosts a read-only network diagnostic talks to, and gives everything else no network', () => {
    expect(localCommandProfile('ping', ['-c', '1', 'db1.example.org'])).toEqual({
      readOnly: true,
      destinations: ['db1.example.org'],
    });
    expect(localCommandProfile('dig', ['@192.0.2.53', 'example.org', 'MX'])).toEqual({
      readOnly: true,
      destinations: ['192.0.2.53'],
    });
    expect(localCommandProfile('dig', ['+short', 'example.org'])).toEqual({ readOnly: true, destinations: [] });
    expect(localCommandProfile('dig', ['+evil', 'example.org']).readOnly).toBe(false);
    expect(localCommandProfile('echo', ['hi'])).toEqual({ readOnly: true, destinations: null });
    expect(localCommandProfile('traceroute', ['-p', '7233', 'example.org'])).toEqual({
      readOnly: false,
      destinations: null,
    });
  });
});

describe('stepNumber', () => {
  it("counts a mixed group's OS variants of one step as one step", () => {
    const steps = [{}, { variantOf: 'stop' }, { variantOf: 'stop' }, {}, { variantOf: 'a' }, { variantOf: 'b' }];
    expect(steps.map((_, i) => stepNumber(steps, i))).toEqual([1, 2, 2, 3, 4, 5]);
  });
});
