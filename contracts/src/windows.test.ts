import { describe, expect, it } from 'vitest';
import { Plan } from './plan.js';
import { toFieldIssues } from './issues.js';

const winrmStep = (operation: unknown, extra: Record<string, unknown> = { targets: { group: 'CIS servers' } }) => ({
  name: 'p',
  steps: [{ id: 's1', name: 'Step', action: { method: 'winrm', operation }, ...extra }],
});
const paths = (input: unknown): string[] => {
  const parsed = Plan.safeParse(input);
  return parsed.success ? [] : toFieldIssues(parsed.error).map((i) => i.path);
};

describe('winrm steps', () => {
  it('fill their defaults: exit 0 succeeds, a service change waits 30 s as the seed script does', () => {
    const plan = Plan.parse(winrmStep({ op: 'service', action: 'stop', name: 'stationcontroller' }));
    expect(plan.steps[0]?.action).toEqual({
      method: 'winrm',
      successExitCodes: [0],
      operation: { op: 'service', action: 'stop', name: 'stationcontroller', timeoutSeconds: 30 },
    });
    const copy = Plan.parse(
      winrmStep({
        op: 'file-copy',
        source: 'stationcontroller/2.4.1/stationcontroller.exe',
        destination: 'C:\\Program Files\\Station Controller\\stationcontroller.exe',
      }),
    );
    expect(copy.steps[0]?.action).toMatchObject({ operation: { backup: true } });
  });

  it('need targets', () => {
    expect(paths(winrmStep({ op: 'process-check', name: 'stationcontroller.exe' }, {}))).toEqual(['steps.0.targets']);
  });

  it.each([
    [{ op: 'service', action: 'stop', name: "spooler'; Remove-Item C:\\ -Recurse" }, 'steps.0.action.operation.name'],
    [{ op: 'service', action: 'pause', name: 'spooler' }, 'steps.0.action.operation.action'],
    [{ op: 'process-check', name: 'a.exe; calc' }, 'steps.0.action.operation.name'],
    [{ op: 'file-copy', source: '..\\secrets', destination: 'C:\\x.exe' }, 'steps.0.action.operation.source'],
    [{ op: 'file-copy', source: 'app.exe', destination: 'relative\\app.exe' }, 'steps.0.action.operation.destination'],
    [
      { op: 'file-copy', source: 'app.exe', destination: 'C:\\Program Files\\..\\Windows\\System32\\x.dll' },
      'steps.0.action.operation.destination',
    ],
    [{ op: 'file-copy', source: 'app.exe', destination: 'C:\\app\\*.exe' }, 'steps.0.action.operation.destination'],
    [
      { op: 'file-copy', source: 'app.exe', destination: '\\\\server\\share\\app.exe' },
      'steps.0.action.operation.destination',
    ],
    [{ op: 'file-restore', destination: 'C:\\app.exe', backup: 'C:\\b\nc' }, 'steps.0.action.operation.backup'],
    [{ op: 'command', program: 'cmd /c del', args: [] }, 'steps.0.action.operation.program'],
    [{ op: 'command', program: 'ipconfig', args: ['/all\r\nshutdown'] }, 'steps.0.action.operation.args.0'],
    [{ op: 'event-log', log: 'System', level: 'verbose' }, 'steps.0.action.operation.level'],
    [{ op: 'event-log', log: 'System', maxEvents: 100_000 }, 'steps.0.action.operation.maxEvents'],
    [{ op: 'powershell', script: '' }, 'steps.0.action.operation.script'],
    [{ op: 'format-disk' }, 'steps.0.action.operation.op'],
  ])('refuse %j at %s', (operation, path) => {
    expect(paths(winrmStep(operation))).toEqual([path]);
  });

  it('take quotes and spaces in command arguments: they are quoted when sent, not refused', () => {
    expect(
      paths(
        winrmStep({ op: 'command', program: 'C:\\Tools\\report.exe', args: ["O'Brien & Sons", '/out:C:\\tmp\\r.txt'] }),
      ),
    ).toEqual([]);
  });
});
