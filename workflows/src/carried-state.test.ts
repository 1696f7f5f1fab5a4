import { describe, expect, it } from 'vitest';
import { CARRIED_JOB_STATE_VERSION, Plan, readCarriedJobState } from '@opsc/contracts';
import { JobState } from './job-state.js';

const step = (id: string) => ({
  id,
  name: `Step ${id}`,
  targets: { group: 'g' },
  action: { method: 'ssh', operation: { op: 'run', argv: ['true'] } },
});
const plan = Plan.parse({ name: 'two steps', policies: { maxParallel: 2 }, steps: [step('a'), step('b')] });
const approval = {
  required: false,
  status: 'not_required' as const,
  planHash: 'h',
  requestedBy: 'rita',
  fourEyes: true,
  deadline: null,
};
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

/** State as a run hands it over, through JSON as Temporal carries it. */
const handedOver = (): Record<string, unknown> => {
  const s = new JobState(
    'job-1',
    plan,
    ['t0', 't1'],
    [
      [0, 1],
      [0, 1],
    ],
    -1,
    { approval, now: at(0) },
  );
  s.startStep(0, at(0));
  s.startTarget(0, 0, at(0));
  s.finishTarget(0, 0, true, false, 500, 'ok', at(1));
  s.data.undo[0] = [
    { step: 0, action: plan.steps[0]!.action },
    { step: 0, error: 'cannot undo "Step a": the step did not report version' },
  ];
  return JSON.parse(JSON.stringify(s.handOver())) as Record<string, unknown>;
};

describe('the state a run hands over when it continues as new', () => {
  it('carries its version, and is read back as the very object handed over', () => {
    const carried = handedOver();
    expect(carried.version).toBe(CARRIED_JOB_STATE_VERSION);
    const read = readCarriedJobState(carried);
    expect(read).toEqual({ state: carried });
    expect('state' in read && read.state).toBe(carried);
  });

  it('reads state handed over before versions were written as version 1', () => {
    const { version: _, ...older } = handedOver();
    const read = readCarriedJobState(older);
    expect(read).toEqual({ state: { ...older, version: 1 } });
  });

  it('refuses a version it does not know, naming it', () => {
    expect(readCarriedJobState({ ...handedOver(), version: 2 })).toEqual({
      refused: 'the handed-over state is version 2; this code reads version 1 only',
    });
    expect(readCarriedJobState({ ...handedOver(), version: '1' })).toEqual({
      refused: 'the handed-over state is version "1"; this code reads version 1 only',
    });
  });

  it("refuses a shape that is not its version's, saying where", () => {
    expect(readCarriedJobState({ ...handedOver(), phase: 'elsewhere' })).toMatchObject({
      refused: expect.stringMatching(/^the handed-over state \(version 1\) does not fit its schema at phase: /),
    });
    expect(
      readCarriedJobState({ ...handedOver(), undo: { 0: [{ step: 0, action: { method: 'telnet' } }] } }),
    ).toMatchObject({ refused: expect.stringMatching(/at undo\.0\.0\.action\.method: /) });
    expect(readCarriedJobState(null)).toEqual({ refused: 'the handed-over state is not an object' });
    expect(readCarriedJobState([])).toEqual({ refused: 'the handed-over state is not an object' });
  });

  it('is taken up by the next run as it left the last one', () => {
    const read = readCarriedJobState(handedOver());
    if (!('state' in read)) throw new Error(read.refused);
    const next = new JobState(
      'job-1',
      plan,
      ['t0', 't1'],
      [
        [0, 1],
        [0, 1],
      ],
      -1,
      read.state,
    );
    expect(next.snapshot(at(2))).toMatchObject({ matrix: ['S.', '..'], runs: 2, targetStates: ['pending', 'pending'] });
    expect(next.handOver()).toMatchObject({ version: 1, runs: 2, undo: { 0: [{ step: 0 }, { step: 0 }] } });
  });
});
