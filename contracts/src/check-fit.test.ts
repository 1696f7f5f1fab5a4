import { describe, expect, it } from 'vitest';
import { Action } from './plan.js';
import { checkFitsAction } from './check-fit.js';

const ssh = (operation: Record<string, unknown>, become = false) => Action.parse({ method: 'ssh', become, operation });
const restore = ssh({ op: 'file-restore', destination: '/opt/app/app.bin', backup: '/var/backups/opsc/app.bin' }, true);

describe('a check that may stand for a step in check mode', () => {
  it("is the read-only twin of the step's own operation, field for field", () => {
    const own = ssh(
      { op: 'file-restore-check', destination: '/opt/app/app.bin', backup: '/var/backups/opsc/app.bin' },
      true,
    );
    expect(checkFitsAction(own, restore)).toBe(true);
    const stop = ssh({ op: 'service', action: 'stop', name: 'nginx' }, true);
    expect(checkFitsAction(ssh({ op: 'service-check', action: 'stop', name: 'nginx' }), stop)).toBe(true);
  });

  it('refuses a probe of another path, another operation, more privilege or another method', () => {
    const shadow = ssh({ op: 'file-restore-check', destination: '/opt/app/app.bin', backup: '/etc/shadow' }, true);
    expect(checkFitsAction(shadow, restore)).toBe(false);
    const stop = ssh({ op: 'service', action: 'stop', name: 'nginx' });
    expect(checkFitsAction(ssh({ op: 'service-check', action: 'stop', name: 'sshd' }), stop)).toBe(false);
    expect(checkFitsAction(ssh({ op: 'service-check', action: 'start', name: 'nginx' }), stop)).toBe(false);
    expect(checkFitsAction(ssh({ op: 'service-check', action: 'stop', name: 'nginx' }, true), stop)).toBe(false);
    expect(checkFitsAction(ssh({ op: 'config-backup-check', paths: ['/etc/ssh'] }), restore)).toBe(false);
    const winrm = Action.parse({ method: 'winrm', operation: { op: 'service-check', action: 'stop', name: 'nginx' } });
    expect(checkFitsAction(winrm, stop)).toBe(false);
  });
});
