import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LinuxOperation, type LinuxOperationInput } from '@opsc/contracts';
import { parseFacts, scriptFor, type ScriptOperation } from './linux-scripts.js';
import { wrapScript } from './remote-command.js';

const ctx = { jobId: 'job-1', stepId: 'step-1', nonce: 'feedc0de' };
const build = (op: LinuxOperationInput) => scriptFor(LinuxOperation.parse(op) as ScriptOperation, ctx);

const EVERY_OPERATION: LinuxOperationInput[] = [
  { op: 'run', argv: ['printf', "it's", '*'] },
  { op: 'script', script: 'echo "$HOME"' },
  ...(['status', 'start', 'stop', 'restart', 'reload', 'enable', 'disable'] as const).map((action) => ({
    op: 'service' as const,
    action,
    name: 'nginx.service',
  })),
  { op: 'service-wait', name: 'nginx', state: 'inactive', timeoutSeconds: 5 },
  { op: 'process-check', name: 'stationcontroller.exe', match: 'full', expect: 'running' },
  ...(['version', 'install', 'update', 'remove'] as const).map((action) => ({
    op: 'package' as const,
    action,
    name: 'libc6',
  })),
  { op: 'package', action: 'install', name: 'nginx', version: '1:1.24.0-1~deb12' },
  { op: 'disk-usage', path: "/mnt/it's here" },
  { op: 'config-backup', paths: ['/etc/nginx', "/srv/a b/c'd"] },
  { op: 'config-restore', archive: '/var/backups/opsc/x.tar.gz' },
  { op: 'file-restore', destination: '/opt/app/app.conf', backup: null },
  { op: 'file-restore', destination: '/opt/app/app.conf', backup: '/var/backups/opsc/files/app.conf' },
];

describe('scriptFor', () => {
  it.each(EVERY_OPERATION.map((op) => [`${op.op} ${JSON.stringify(op).slice(0, 60)}`, op] as const))(
    'builds a script the shell parses: %s',
    (_name, op) => {
      const remote = build(op);
      const wrapped = wrapScript(remote, { timeoutSeconds: 10, nonce: ctx.nonce, become: 'sudo-password' });
      for (const [shell, text] of [
        [remote.shell, remote.script],
        ['sh', wrapped],
      ] as const) {
        const check = spawnSync(shell, ['-n', '-c', text], { encoding: 'utf8' });
        expect(check.stderr, text).toBe('');
        expect(check.status).toBe(0);
      }
    },
  );

  it('puts only a whole number of seconds into the command line as the time limit', () => {
    const remote = build({ op: 'run', argv: ['true'] });
    // An activity's input is whatever its scheduler wrote: a string here would be shell code.
    for (const timeoutSeconds of ['$(id > /tmp/x) 30', 1.5, 0, Number.NaN] as unknown as number[]) {
      expect(() => wrapScript(remote, { timeoutSeconds, nonce: ctx.nonce, become: 'none' })).toThrow(RangeError);
    }
    expect(wrapScript(remote, { timeoutSeconds: 30, nonce: ctx.nonce, become: 'none' })).toContain('timeout -k 5 30 ');
  });

  it('finds a process by its full command line without matching itself', () => {
    const script = build({ op: 'process-check', name: 'no-such-process-xyz', match: 'full' }).script;
    const { stdout } = parseFacts(execFileSync('sh', ['-c', script], { encoding: 'utf8' }), ctx.nonce);
    expect(stdout.trim()).toBe('no-such-process-xyz is not running');
  });

  it("reads back only fact lines carrying the run's nonce", () => {
    const out = '@@opsc-feedc0de state=active\nhello\n@@opsc-0000 backup=/etc/shadow\n@@opsc-feedc0de version=1.2=3\n';
    expect(parseFacts(out, ctx.nonce)).toEqual({
      stdout: 'hello\n@@opsc-0000 backup=/etc/shadow\n',
      facts: { state: 'active', version: '1.2=3' },
    });
  });

  it('runs a disk usage script for real and reports the mount as a fact', () => {
    const { facts } = parseFacts(
      execFileSync('sh', ['-c', build({ op: 'disk-usage', path: '/' }).script], { encoding: 'utf8' }),
      ctx.nonce,
    );
    expect(facts.mount).toBe('/');
    expect(Number(facts.size_kb)).toBeGreaterThan(0);
  });
});
