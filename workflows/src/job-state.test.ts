import { describe, expect, it } from 'vitest';
import { Plan, type CommandOutput, type ErrorType } from '@opsc/contracts';
import { JobState } from './job-state.js';
import type { Outcome } from './run-step.js';
import { undoEntryFor } from './saga.js';

const step = (id: string) => ({
  id,
  name: `Step ${id}`,
  targets: { group: 'g' },
  action: { method: 'ssh', operation: { op: 'run', argv: ['true'] } },
});
const plan = Plan.parse({
  name: 'three steps',
  policies: { maxParallel: 2 },
  steps: [step('a'), step('b'), step('c')],
});
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
const approval = {
  required: false,
  status: 'not_required' as const,
  planHash: 'h',
  requestedBy: 'rita',
  fourEyes: true,
  deadline: null,
};
const fresh = () =>
  new JobState(
    'job-1',
    plan,
    ['t0', 't1', 't2'],
    [
      [0, 1, 2],
      [0, 1, 2],
      [0, 1, 2],
    ],
    -1,
    { approval, now: at(0) },
  );

describe('JobState', () => {
  it('keeps one cell per step and target, drops a failed target from later steps and counts each target once', () => {
    const s = fresh();
    s.startStep(0, at(0));
    for (const t of [0, 1, 2]) s.startTarget(0, t, at(0));
    expect(s.snapshot(at(1)).matrix[0]).toBe('>>>');
    s.finishTarget(0, 0, true, false, 1_000, 'ok', at(1));
    s.finishTarget(0, 1, false, false, 1_000, 'exit 1', at(1));
    s.finishTarget(0, 2, true, false, 1_000, 'ok', at(1));
    s.finishStep(0, at(1));
    s.startStep(1, at(1));
    expect(s.pendingTargets(1)).toEqual([0, 2]);
    const snap = s.snapshot(at(2));
    expect(snap.matrix).toEqual(['SFS', '.-.', '...']);
    expect(snap.steps[0]).toMatchObject({ status: 'failed', targets: { total: 3, completed: 2, failed: 1 } });
    expect(snap.steps[1]?.targets).toMatchObject({ skipped: 1, pending: 2 });
    expect(snap.targetProgress).toMatchObject({ total: 3, failed: 1, pending: 2, completed: 0 });
    expect(snap).toMatchObject({ currentStep: 2, stepName: 'Step b' });
    expect(snap.logs.at(-1)?.message).toBe('Step 2 of 3: Step b');
  });

  it('marks undone changes and a failed undo loudly, and survives a hand-over to the next run', () => {
    const s = fresh();
    s.startStep(0, at(0));
    s.startTarget(0, 0, at(0));
    s.finishTarget(0, 0, true, false, 500, 'ok', at(1));
    s.recordUndone(0, 0, true, null, at(2));
    s.startTarget(0, 1, at(0));
    s.finishTarget(0, 1, true, false, 500, 'ok', at(1));
    s.recordUndone(0, 1, false, { target: 't1', stepId: 'a', message: 'undo of "Step a" failed' }, at(2));
    s.finishCompensation(0, ['a'], [], at(2));
    s.finishCompensation(1, [], ['a'], at(2));
    const carried = s.handOver();
    const next = new JobState(
      'job-1',
      plan,
      ['t0', 't1', 't2'],
      [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ],
      -1,
      carried,
    );
    const snap = next.snapshot(at(3));
    expect(snap.matrix[0]).toBe('RX.');
    expect(snap.targetStates).toEqual(['rolled_back', 'rollback_failed', 'pending']);
    expect(snap.rollback).toMatchObject({ undone: 1, failed: 1, failures: [{ target: 't1', stepId: 'a' }] });
    expect(snap.runs).toBe(2);
    expect(snap.logs.some((l) => l.level === 'error' && l.message.startsWith('ROLLBACK FAILED'))).toBe(true);
  });
});

describe('rollback accounting', () => {
  it('calls a host rolled back only when every one of its changes was undone; else half-changed, saying what was and was not', () => {
    const s = fresh();
    for (const step of [0, 1]) {
      s.startStep(step, at(step));
      for (const t of [0, 1]) {
        s.startTarget(step, t, at(step));
        s.finishTarget(step, t, true, false, 500, 'ok', at(step + 1));
      }
      s.finishStep(step, at(step + 1));
    }
    // t0: both changes undone. t1: the newer undone, the older's undo failed.
    s.recordUndone(1, 0, true, null, at(3));
    s.recordUndone(0, 0, true, null, at(3));
    s.finishCompensation(0, ['b', 'a'], [], at(3));
    s.recordUndone(1, 1, true, null, at(3));
    s.recordUndone(0, 1, false, { target: 't1', stepId: 'a', message: 'undo of "Step a" failed: exit code 1' }, at(3));
    s.finishCompensation(1, ['b'], ['a'], at(3));
    const snap = new JobState(
      'job-1',
      plan,
      ['t0', 't1', 't2'],
      [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ],
      -1,
      s.handOver(),
    ).snapshot(at(4));
    expect(snap.targetStates.slice(0, 2)).toEqual(['rolled_back', 'rollback_failed']);
    expect(snap.matrix.slice(0, 2)).toEqual(['RX-', 'RR-']);
    expect(snap.targetProgress).toMatchObject({ rolledBack: 1 });
    expect(snap.rollback).toEqual({
      policy: 'none',
      undone: 3,
      failed: 1,
      failures: [{ target: 't1', stepId: 'a', message: 'undo of "Step a" failed: exit code 1' }],
      halfChanged: [{ target: 't1', undone: ['b'], notUndone: ['a'] }],
    });
    expect(snap.logs.at(-1)).toMatchObject({
      level: 'error',
      target: 't1',
      message: 'HALF-CHANGED: 1 change(s) not undone (a); undone: b',
    });
  });

  it('answers for state handed over by a run that kept no list of half-changed hosts', () => {
    const s = fresh();
    const older = s.handOver();
    delete older.rollback.halfChanged;
    const next = new JobState(
      'job-1',
      plan,
      ['t0', 't1', 't2'],
      [
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 2],
      ],
      -1,
      older,
    );
    next.finishCompensation(2, [], ['c'], at(1));
    expect(next.snapshot(at(1)).rollback.halfChanged).toEqual([{ target: 't2', undone: [], notUndone: ['c'] }]);
  });
});

describe("the job's ETA", () => {
  it('starts from earlier runs or tool estimates, and prefers what this run has seen', () => {
    const s = fresh();
    s.setExpected(0, 2, 'history');
    s.setExpected(1, 5, 'tool');
    s.setExpected(2, 5, 'tool');
    s.startStep(0, at(0));
    // 3 targets, 2 at once: 2 waves of 2 s, then 2 waves of 5 s twice.
    expect(s.snapshot(at(0)).estimatedSecondsRemaining).toBe(4 + 10 + 10);
    for (const t of [0, 1, 2]) {
      s.startTarget(0, t, at(0));
      s.finishTarget(0, t, true, false, 8_000, 'ok', at(8));
    }
    const snap = s.snapshot(at(8));
    expect(snap.steps[0]).toMatchObject({ expectedSeconds: 8, expectedFrom: 'observed' });
    expect(snap.steps[1]).toMatchObject({ expectedSeconds: 5, expectedFrom: 'tool' });
  });

  it('takes the slow end from history and from the slowest target this run has seen', () => {
    const s = fresh();
    // History: 2 s on average, 6 s at the slow end; 3 targets, 2 at once.
    s.setExpected(0, 2, 'history', 6);
    s.startStep(0, at(0));
    // A first wave of the mean, the last of the slow end.
    expect(s.snapshot(at(0)).estimatedSecondsRemaining).toBe(2 + 6);
    for (const [t, ms] of [
      [0, 1_000],
      [1, 9_000],
    ] as const) {
      s.startTarget(0, t, at(0));
      s.finishTarget(0, t, true, false, ms, 'ok', at(ms / 1000));
    }
    // Two seen (too few to replace the history's mean), one 9 s: the last target's wave may last that long.
    const snap = s.snapshot(at(9));
    expect(snap.steps[0]).toMatchObject({ expectedFrom: 'history', expectedSeconds: 2 });
    expect(snap.estimatedSecondsRemaining).toBe(9);
  });
});

const command = (exitCode: number, facts?: Record<string, string>): CommandOutput => ({
  kind: 'command',
  exitCode,
  signal: null,
  stdout: '',
  stderr: '',
  stdoutTruncated: false,
  stderrTruncated: false,
  durationMs: 10,
  ...(facts && { facts }),
});

describe('undo actions', () => {
  const copy = Plan.parse({
    name: 'copy',
    steps: [
      {
        id: 'copy',
        name: 'Copy',
        targets: { group: 'g' },
        action: { method: 'ssh', operation: { op: 'file-copy', source: 'a', destination: '/opt/a' } },
        rollback: {
          tool: 'file-restore',
          name: 'Restore /opt/a',
          action: {
            method: 'ssh',
            become: true,
            operation: { op: 'file-restore', destination: '/opt/a', backup: '{{facts.backup}}' },
          },
        },
      },
    ],
  }).steps[0]!;

  const ok = (facts?: Record<string, string>): Outcome => ({ ok: true, output: command(0, facts), durationMs: 10 });
  const failed = (exitCode: number, facts?: Record<string, string>): Outcome => ({
    ok: false,
    output: command(exitCode, facts),
    error: { type: 'CommandFailed', message: `command ended with exit code ${exitCode}` },
    durationMs: 10,
  });
  const lost = (type: ErrorType, message: string): Outcome => ({ ok: false, error: { type, message }, durationMs: 10 });

  it('fills what the step reported on that target into its undo action, validated', () => {
    expect(undoEntryFor(copy, 0, ok({ backup: '/var/backups/opsc/a.1' }))).toEqual({
      step: 0,
      action: {
        method: 'ssh',
        become: true,
        successExitCodes: [0],
        operation: { op: 'file-restore', destination: '/opt/a', backup: '/var/backups/opsc/a.1' },
      },
    });
  });

  it('reports a completed change it cannot undo, and leaves alone a failed step that reported nothing', () => {
    expect(undoEntryFor(copy, 0, ok({}))).toEqual({
      step: 0,
      error: 'cannot undo "Copy": the step did not report backup',
    });
    expect(undoEntryFor(copy, 0, failed(2))).toBeNull();
    expect(undoEntryFor(copy, 0, ok({ backup: '../../etc/shadow' }))?.error).toMatch(
      /^cannot undo "Copy": its undo action is invalid at operation.backup/,
    );
  });

  const install = Plan.parse({
    name: 'install',
    steps: [
      {
        id: 'install',
        name: 'Install nginx',
        targets: { group: 'g' },
        action: { method: 'ssh', become: true, operation: { op: 'package', action: 'install', name: 'nginx' } },
        rollback: {
          tool: 'package-remove',
          name: 'Remove nginx',
          action: { method: 'ssh', become: true, operation: { op: 'package', action: 'remove', name: 'nginx' } },
        },
      },
    ],
  }).steps[0]!;
  const removeNginx = {
    method: 'ssh',
    become: true,
    successExitCodes: [0],
    operation: { op: 'package', action: 'remove', name: 'nginx' },
  };

  it('gives a package install that failed without changing the package no undo, and one that changed it its undo', () => {
    // The package manager failed before the package changed: same version before and after.
    expect(undoEntryFor(install, 0, failed(100, { manager: 'apt', previous_version: '', version: '' }))).toBeNull();
    // No package manager at all: the script stopped before it reported the version it found.
    expect(undoEntryFor(install, 0, failed(127))).toBeNull();
    // Unpacked, then its post-installation script failed: the host has the package now.
    expect(
      undoEntryFor(install, 0, failed(100, { manager: 'apt', previous_version: '', version: '1.24.0-1' })),
    ).toEqual({ step: 0, action: removeNginx });
    // The shell died between the two: nobody knows, so the undo runs.
    expect(undoEntryFor(install, 0, failed(137, { manager: 'apt', previous_version: '' }))).toEqual({
      step: 0,
      action: removeNginx,
    });
    // Installed already at that version: the job found it so, and a rollback leaves it so.
    expect(
      undoEntryFor(install, 0, ok({ manager: 'apt', previous_version: '1.24.0-1', version: '1.24.0-1' })),
    ).toBeNull();
    expect(undoEntryFor(install, 0, ok({ manager: 'apt', previous_version: '', version: '1.24.0-1' }))).toEqual({
      step: 0,
      action: removeNginx,
    });
  });

  it('gives a step refused before it ran no undo, and says a step whose result never came back may have changed the host', () => {
    expect(
      undoEntryFor(install, 0, lost('Forbidden', 'the executor runs only what an approved job asks for')),
    ).toBeNull();
    expect(undoEntryFor(install, 0, lost('AuthFailed', 'authentication failed'))).toBeNull();
    // Lost mid-run: its undo needs nothing it did not report, so it runs.
    expect(undoEntryFor(install, 0, lost('ConnectionLost', 'the connection dropped'))).toEqual({
      step: 0,
      action: removeNginx,
    });
    // Lost mid-copy: the backup it made is unknown, so the host may be half-changed, and the job says so.
    expect(undoEntryFor(copy, 0, lost('Internal', 'connect ECONNREFUSED 127.0.0.1:5432'))).toEqual({
      step: 0,
      error:
        'cannot undo "Copy": it may have changed the host, but its result never came back (Internal: connect ECONNREFUSED 127.0.0.1:5432), and its undo needs backup',
    });
  });

  it("reads a retry's refusal as a step that may have changed the host: an earlier attempt may have run before it was lost", () => {
    const refusedRetry = (type: ErrorType, message: string): Outcome => ({
      ...lost(type, message),
      error: { type, message, retried: true },
    });
    expect(undoEntryFor(install, 0, refusedRetry('AuthFailed', 'the credential cannot be opened'))).toEqual({
      step: 0,
      action: removeNginx,
    });
    expect(undoEntryFor(install, 0, refusedRetry('Forbidden', 'the job is over'))).toEqual({
      step: 0,
      action: removeNginx,
    });
    expect(undoEntryFor(copy, 0, refusedRetry('NotFound', 'no target t-1'))?.error).toMatch(
      /^cannot undo "Copy": it may have changed the host, but its result never came back \(NotFound: no target t-1\)/,
    );
  });

  it('reads a Windows service change that never left its state as no change', () => {
    const stop = Plan.parse({
      name: 'stop',
      steps: [
        {
          id: 'stop',
          name: 'Stop',
          targets: { group: 'g' },
          action: { method: 'winrm', operation: { op: 'service', action: 'stop', name: 'svc' } },
          rollback: {
            tool: 'service-start',
            name: 'Start svc',
            action: { method: 'winrm', operation: { op: 'service', action: 'start', name: 'svc' } },
          },
        },
      ],
    }).steps[0]!;
    expect(undoEntryFor(stop, 0, ok({ before: 'Stopped', state: 'Stopped' }))).toBeNull();
    expect(undoEntryFor(stop, 0, failed(1))).toBeNull();
    expect(undoEntryFor(stop, 0, ok({ before: 'Running', state: 'Stopped' }))?.action).toMatchObject({
      operation: { op: 'service', action: 'start' },
    });
    expect(undoEntryFor(stop, 0, failed(2, { before: 'Running', state: 'StopPending' }))?.action).toMatchObject({
      operation: { op: 'service', action: 'start' },
    });
  });
});
