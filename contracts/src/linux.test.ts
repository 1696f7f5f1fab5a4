import { describe, expect, it } from 'vitest';
import { Plan } from './plan.js';
import { toFieldIssues } from './issues.js';

const sshStep = (operation: unknown, extra: Record<string, unknown> = { targets: { group: 'Production Web' } }) => ({
  name: 'p',
  steps: [{ id: 's1', name: 'Step', action: { method: 'ssh', operation }, ...extra }],
});
const paths = (input: unknown): string[] => {
  const parsed = Plan.safeParse(input);
  return parsed.success ? [] : toFieldIssues(parsed.error).map((i) => i.path);
};

describe('ssh steps', () => {
  it('fill their defaults: no sudo, exit 0, a 60 s wait polled every 2 s', () => {
    const plan = Plan.parse(sshStep({ op: 'service-wait', name: 'nginx' }));
    expect(plan.steps[0]?.action).toEqual({
      method: 'ssh',
      become: false,
      successExitCodes: [0],
      operation: { op: 'service-wait', name: 'nginx', state: 'active', timeoutSeconds: 60, intervalSeconds: 2 },
    });
  });

  it('need targets, and executor steps refuse them', () => {
    expect(paths(sshStep({ op: 'disk-usage' }, {}))).toEqual(['steps.0.targets']);
    expect(
      paths({
        name: 'p',
        steps: [
          { id: 's', name: 's', targets: { group: 'x' }, action: { method: 'local-command', command: 'uptime' } },
        ],
      }),
    ).toEqual(['steps.0.targets']);
  });

  it.each([
    [{ op: 'service', action: 'restart', name: 'nginx; reboot' }, 'steps.0.action.operation.name'],
    [{ op: 'service', action: 'explode', name: 'nginx' }, 'steps.0.action.operation.action'],
    [{ op: 'process-check', name: '$(id)' }, 'steps.0.action.operation.name'],
    [{ op: 'package', action: 'install', name: 'nginx', version: '1.0 && rm' }, 'steps.0.action.operation.version'],
    [{ op: 'package', action: 'update', name: 'nginx', version: '1.0' }, 'steps.0.action.operation.version'],
    [{ op: 'file-copy', source: '../../etc/shadow', destination: '/tmp/x' }, 'steps.0.action.operation.source'],
    [{ op: 'file-copy', source: 'app.exe', destination: 'relative/path' }, 'steps.0.action.operation.destination'],
    [{ op: 'file-copy', source: 'app.exe', destination: '/opt/../etc/passwd' }, 'steps.0.action.operation.destination'],
    [{ op: 'file-copy', source: 'app.exe', destination: '/opt/app', mode: '777; id' }, 'steps.0.action.operation.mode'],
    [{ op: 'config-backup', paths: [] }, 'steps.0.action.operation.paths'],
    [{ op: 'run', argv: ['echo', '`id`'] }, 'steps.0.action.operation.argv.1'],
    [{ op: 'telnet' }, 'steps.0.action.operation.op'],
  ])('refuse %j, naming %s', (operation, path) => {
    expect(paths(sshStep(operation))).toEqual([path]);
  });

  it('accept paths with spaces and quotes: the executor quotes them', () => {
    expect(paths(sshStep({ op: 'config-backup', paths: ["/srv/it's here/conf"] }))).toEqual([]);
  });
});
