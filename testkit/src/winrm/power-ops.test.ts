import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootTimeMs, powershellInvocation, windowsPowerScript } from '@opsc/activities/execution';
import { execOnHost } from './host-exec.js';
import { WinHost } from './win-host.js';

// The executor's own reboot, shutdown and boot-time scripts against a simulated Windows host.
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const newHost = async (): Promise<WinHost> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-power-'));
  dirs.push(dir);
  return new WinHost({ name: 'win-01', hostname: 'WIN-01', address: '127.0.0.201', username: 'Administrator' }, dir, {
    services: [{ name: 'StationCtl', status: 'Running', path: 'C:\\Station\\stationcontroller.exe' }],
  });
};

const run = async (host: WinHost, op: 'reboot' | 'shutdown' | 'boot-time') => {
  const nonce = randomBytes(6).toString('hex');
  const { command, args, stdin } = powershellInvocation(windowsPowerScript(op, nonce).script);
  const r = await execOnHost(host, [command, ...args].join(' '), { ...(stdin && { stdin }), utf8: false });
  const bootTime = new RegExp(`^@@opsc-${nonce} boot_time=(.*)\\r?$`, 'm').exec(r.stdout)?.[1];
  return { code: r.code, bootTime, stdout: r.stdout };
};

describe('power scripts on a simulated Windows host', () => {
  it('reboot reports the boot time before and asks the host to restart; a new boot reports a later one', async () => {
    const host = await newHost();
    const asked: string[] = [];
    host.onPower = (action) => asked.push(action);
    const pidBefore = host.processes().find((p) => p.name === 'stationcontroller.exe')?.pid;
    const reboot = await run(host, 'reboot');
    expect(reboot.code).toBe(0);
    expect(reboot.stdout).toContain('restart requested');
    expect(asked).toEqual(['restart']);
    const before = bootTimeMs(reboot.bootTime);
    expect(before).toBe(host.bootTime.getTime());
    host.boot();
    const probe = await run(host, 'boot-time');
    expect(probe.code).toBe(0);
    expect(bootTimeMs(probe.bootTime)).toBeGreaterThan(before);
    // DateTime.ToString('o'): seven fractional digits, UTC.
    expect(probe.bootTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    const pidAfter = host.processes().find((p) => p.name === 'stationcontroller.exe')?.pid;
    expect(host.service('StationCtl')?.status).toBe('Running');
    expect(pidAfter).toBeDefined();
    expect(pidAfter).not.toBe(pidBefore);
  });

  it('shutdown asks the host to stop; a host nobody can power off refuses', async () => {
    const host = await newHost();
    const asked: string[] = [];
    host.onPower = (action) => asked.push(action);
    expect((await run(host, 'shutdown')).code).toBe(0);
    expect(asked).toEqual(['stop']);
    host.onPower = undefined;
    expect((await run(host, 'shutdown')).code).toBe(1);
  });

  it('reads only real boot times', () => {
    expect(bootTimeMs('2026-12-02T10:00:00.1234567Z')).toBe(Date.parse('2026-12-02T10:00:00.123Z'));
    for (const bad of [undefined, '', 'yesterday', '2026-12-02 10:00:00', '2026-12-02T10:00:00.1234567+01:00'])
      expect(bootTimeMs(bad)).toBeNaN();
  });
});
