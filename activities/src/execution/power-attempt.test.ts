import { describe, expect, it } from 'vitest';
import { notIssuedAgain, powerIssuedIn, powerStart, requireBefore } from './power-attempt.js';
import { RemoteFailure } from './remote-failure.js';
import { bootIdVerdict, isBootId, powerScript } from './ssh/power.js';
import { bootTimeVerdict, isBootTime } from './winrm/power.js';

const BEFORE = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const AFTER = '11111111-2222-3333-4444-555555555555';
const record = { op: 'reboot', attempt: 1, issuedAt: '2026-12-02T11:00:00.123Z', before: BEFORE };

describe('a power command is issued at most once', () => {
  it('the first attempt issues it', () => {
    expect(powerStart(1, undefined, 'reboot', 'web-1')).toEqual({ issue: true });
    // Whatever details it is handed: only a retry reads them.
    expect(powerStart(1, { power: record }, 'reboot', 'web-1')).toEqual({ issue: true });
  });

  it('a retry that finds the record does not issue it again', () => {
    const start = powerStart(2, { stdoutBytes: 10, power: record }, 'reboot', 'web-1');
    expect(start).toEqual({ issue: false, earlier: record });
    if (!start.issue)
      expect(notIssuedAgain(start.earlier)).toBe(
        'the reboot was issued by attempt 1 at 2026-12-02T11:00:00.123Z; not issued again',
      );
    const off = { op: 'shutdown', attempt: 2, issuedAt: '2026-12-02T11:00:00Z', before: '' };
    expect(powerStart(3, { power: off }, 'shutdown', 'web-1')).toEqual({ issue: false, earlier: off });
  });

  it.each([
    ['no details', undefined],
    ['no record', { stdoutBytes: 3 }],
    ['another operation', { power: { ...record, op: 'shutdown' } }],
    ['a bad time', { power: { ...record, issuedAt: 'now' } }],
    ['a bad attempt', { power: { ...record, attempt: 0 } }],
    ['no before', { power: { ...record, before: 42 } }],
    ['a record that is not one', { power: 'issued' }],
  ])('a retry with %s fails for good and issues nothing', (_, details) => {
    let thrown: unknown;
    try {
      powerStart(2, details, 'reboot', 'web-1');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RemoteFailure);
    expect(thrown).toMatchObject({
      final: true,
      message: expect.stringMatching(/attempt 2 of the reboot of web-1 did not send it again/),
    });
    expect(powerIssuedIn(details, 'reboot')).toBeUndefined();
  });
});

describe('a new boot needs the one before', () => {
  it('requireBefore passes a valid value and fails clearly, for good, without one', () => {
    expect(requireBefore(BEFORE, isBootId, 'boot id', 'web-1')).toBe(BEFORE);
    for (const bad of ['', 'unknown', `${BEFORE}\nrm -rf /`]) {
      let thrown: unknown;
      try {
        requireBefore(bad, isBootId, 'boot id', 'web-1');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({
        final: true,
        type: 'CommandFailed',
        message: expect.stringMatching(/^could not read the boot id of web-1 before the reboot.*nothing would tell/),
      });
    }
  });

  it('Linux: only another boot id is a new boot; without a boot id before, nothing is', () => {
    expect(bootIdVerdict(BEFORE, 0, `${AFTER}\n`)).toBe('new');
    expect(bootIdVerdict(BEFORE, 0, BEFORE)).toBe('same');
    expect(bootIdVerdict(BEFORE, 1, AFTER)).toBe('none');
    expect(bootIdVerdict(BEFORE, 0, 'cat: no such file')).toBe('none');
    expect(bootIdVerdict(BEFORE, null, AFTER)).toBe('none');
    // The first poll, before the scheduled reboot ran, answers with any id: never a new boot without one before.
    expect(() => bootIdVerdict('', 0, AFTER)).toThrow(RangeError);
  });

  it('Windows: only a later boot time is a new boot; without one before, nothing is', () => {
    const before = '2026-12-02T10:00:00.1234567Z';
    expect(isBootTime(before)).toBe(true);
    expect(bootTimeVerdict(before, 0, '2026-12-02T10:05:00.0000000Z')).toBe('new');
    expect(bootTimeVerdict(before, 0, before)).toBe('same');
    expect(bootTimeVerdict(before, 0, '2026-12-02T09:00:00.0000000Z')).toBe('same');
    expect(bootTimeVerdict(before, 0, undefined)).toBe('none');
    expect(bootTimeVerdict(before, 1, '2026-12-02T10:05:00.0000000Z')).toBe('none');
    // Restart-Computer returns before the host goes down: an answer without a time before is never the new boot.
    for (const bad of ['', 'yesterday'])
      expect(() => bootTimeVerdict(bad, 0, '2026-12-02T10:05:00Z')).toThrow(RangeError);
  });

  it('the Linux reboot script does not schedule the reboot when it cannot read the boot id; a shutdown needs none', () => {
    const reboot = powerScript('reboot', 'n0nce').script;
    const refusal = reboot.indexOf('not rebooting');
    expect(refusal).toBeGreaterThan(reboot.indexOf('boot_id=$(cat'));
    expect(refusal).toBeLessThan(reboot.indexOf('setsid'));
    expect(powerScript('shutdown', 'n0nce').script).not.toContain('not rebooting');
  });
});
