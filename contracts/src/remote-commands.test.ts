import { describe, expect, it } from 'vitest';
import { Plan } from './plan.js';
import { remoteCommandReadOnly } from './remote-commands.js';
import { actionRisk } from './risk.js';

const riskOf = (action: unknown) =>
  actionRisk(
    Plan.parse({ name: 'p', steps: [{ id: 's', name: 's', targets: { group: 'g' }, action }] }).steps[0]!.action,
  );
const ssh = (...argv: string[]) => riskOf({ method: 'ssh', operation: { op: 'run', argv } });
const winrm = (program: string, ...args: string[]) =>
  riskOf({ method: 'winrm', operation: { op: 'command', program, args } });

describe('a command on a target is read-only only in an argv-exact listed shape', () => {
  it('reads for the listed commands over SSH and WinRM', () => {
    for (const argv of [['uptime'], ['hostname'], ['whoami'], ['id'], ['date'], ['uname', '-a'], ['df', '-h']])
      expect(ssh(...argv), argv.join(' ')).toBe('read');
    expect(ssh('free', '-m')).toBe('read');
    expect(ssh('cat', '/etc/os-release')).toBe('read');
    expect(winrm('hostname')).toBe('read');
    expect(winrm('WHOAMI.exe', '/all')).toBe('read');
    expect(winrm('ipconfig', '/all')).toBe('read');
  });

  it('is a change for a command not on the list, or a listed one with another argument', () => {
    expect(ssh('rm', '-rf', '/tmp/x')).toBe('change');
    expect(ssh('ls', '/opt')).toBe('change');
    // Writes nothing, but reads any file (a secret too): still a person's to approve.
    expect(ssh('sha256sum', '/etc/shadow')).toBe('change');
    expect(ssh('hostname', 'web-2')).toBe('change');
    expect(ssh('date', '-s', '2020-01-01')).toBe('change');
    expect(ssh('uptime', '-p', '-s', 'x')).toBe('change');
    expect(ssh('df', '-h', '/var')).toBe('change');
    expect(ssh('cat', '/etc/shadow')).toBe('change');
    expect(ssh('/tmp/evil/uptime')).toBe('change');
    expect(ssh('./uptime')).toBe('change');
    expect(winrm('ipconfig', '/release')).toBe('change');
    expect(winrm('C:\\Temp\\hostname.exe')).toBe('change');
    expect(winrm('shutdown', '/r')).toBe('change');
    // Each list is its own: Linux's `df -h` is not a Windows read, Windows' `ipconfig` not a Linux one.
    expect(winrm('df', '-h')).toBe('change');
    expect(ssh('ipconfig')).toBe('change');
  });

  it('does not take a program from the object prototype', () => {
    expect(remoteCommandReadOnly('ssh', 'constructor', [])).toBe(false);
    expect(remoteCommandReadOnly('winrm', '__proto__', [])).toBe(false);
  });

  it('a script is a change whatever it says', () => {
    expect(riskOf({ method: 'ssh', operation: { op: 'script', script: 'uptime' } })).toBe('change');
    expect(riskOf({ method: 'winrm', operation: { op: 'powershell', script: 'hostname' } })).toBe('change');
  });
});
