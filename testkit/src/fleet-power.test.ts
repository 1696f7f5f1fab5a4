import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MACHINE_POWER_COMMANDS } from './host-process.js';
import { sleep } from './run.js';
import { startSshFleet, type SshFleet } from './ssh-fleet.js';

// Emulated reboots and power-offs on real sshd hosts: the shims ask the harness, which restarts the
// host's namespace with a new boot id; the machine's own power commands are out of every host's reach.
const canRun = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/sbin/sshd');

const until = async (check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};

describe.skipIf(!canRun)('power on an SSH fleet host', () => {
  let fleet: SshFleet;
  const machineBootId = () => fleet.exec(0, 'cat /proc/sys/kernel/random/boot_id');

  beforeAll(async () => {
    fleet = await startSshFleet({ size: 3, host: (i) => ({ init: i === 1 ? 'sysv' : 'systemd' }) });
  }, 180_000);
  afterAll(async () => {
    await fleet?.stop();
  });

  it("shows each host its own boot id, not the machine's", async () => {
    const own = await fleet.bootId(0);
    expect(own).toMatch(/^[0-9a-f-]{36}$/);
    expect((await machineBootId()).stdout.trim()).toBe(own);
    expect(own).not.toBe(await fleet.bootId(1));
  });

  it("never reaches the machine's systemctl, shutdown or reboot, even through sudo and full paths", async () => {
    const before = await fleet.bootId(0);
    const present = MACHINE_POWER_COMMANDS.filter((c) => existsSync(c));
    expect(present.length).toBeGreaterThan(0);
    for (const command of present) {
      const r = await fleet.exec(0, `sudo -n ${command} reboot; echo "rc=$?"`);
      expect(r.stdout, command).toBe('rc=1\n');
      expect(r.stderr, command).toMatch(/has not been booted with systemd/);
    }
    const refused = (await fleet.readJournal(0)).filter((e) => e.action === 'refused');
    expect(refused.length).toBe(present.length);
    await sleep(500);
    expect(fleet.isUp(0)).toBe(true);
    expect(await fleet.bootId(0)).toBe(before);
  });

  it('refuses a reboot without sudo', async () => {
    const r = await fleet.exec(0, 'reboot; echo "rc=$?"; systemctl reboot; echo "rc=$?"');
    expect(r.stdout).toBe('rc=1\nrc=1\n');
    expect(r.stderr).toMatch(/Access denied/);
  });

  it.each([
    [0, 'sudo -n systemctl reboot'],
    [1, 'sudo -n shutdown -r now'],
  ])('reboots host %i (%s): down, then back with a new boot id and its services started again', async (i, cmd) => {
    const before = await fleet.bootId(i);
    const nginx = (await fleet.exec(i, 'pgrep -x nginx')).stdout.trim();
    expect(nginx).toMatch(/^\d+$/);
    expect((await fleet.exec(i, cmd)).code).toBe(0);
    await until(() => !fleet.isUp(i), 'the host to go down');
    await until(() => fleet.isUp(i), 'the host to come back');
    await until(async () => (await fleet.exec(i, 'true').catch(() => ({ code: 255 }))).code === 0, 'ssh', 30_000);
    const after = (await fleet.exec(i, 'cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    expect(after).toBe(await fleet.bootId(i));
    expect(after).not.toBe(before);
    const restarted = (await fleet.exec(i, 'pgrep -x nginx')).stdout.trim();
    expect(restarted).toMatch(/^\d+$/);
    expect((await fleet.readJournal(i)).map((e) => e.action)).toEqual(expect.arrayContaining(['reboot', 'boot-start']));
  });

  it('powers a host off, and a held host does not come back from a reboot', async () => {
    expect((await fleet.exec(2, 'sudo -n poweroff')).code).toBe(0);
    await until(() => !fleet.isUp(2), 'the host to power off');
    await sleep(3_000);
    expect(fleet.isUp(2)).toBe(false);
    await fleet.startHost(2);
    fleet.holdDownOnReboot(2, true);
    expect((await fleet.exec(2, 'sudo -n reboot')).code).toBe(0);
    await until(() => !fleet.isUp(2), 'the host to go down');
    await sleep(3_000);
    expect(fleet.isUp(2)).toBe(false);
  });
});
