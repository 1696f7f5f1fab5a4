import { describe, expect, it } from 'vitest';
import { Plan, describeStepFacts, type ActionOutput } from '@opsc/contracts';
import { JobState } from './job-state.js';
import { noteOutcomeFact } from './outcome-facts.js';

const plan = Plan.parse({
  name: 'update',
  steps: [
    {
      id: 'status',
      name: 'Check Service Status',
      targets: { group: 'g' },
      action: { method: 'ssh', operation: { op: 'service', action: 'status', name: 'app' } },
    },
    {
      id: 'copy',
      name: 'Copy New File',
      targets: { group: 'g' },
      action: {
        method: 'winrm',
        operation: { op: 'file-copy', source: 'a.exe', sha256: 'a'.repeat(64), destination: 'C:\\a.exe' },
      },
    },
    {
      id: 'script',
      name: 'Run a script',
      targets: { group: 'g' },
      action: { method: 'ssh', operation: { op: 'script', shell: 'sh', script: 'echo 25 copied' } },
    },
  ],
});
const names = ['t0', 't1', 't2'];
const at = new Date(Date.UTC(2026, 0, 1));
const output = (facts: Record<string, string>, stdout = ''): ActionOutput => ({
  kind: 'command',
  exitCode: 0,
  signal: null,
  stdout,
  stderr: '',
  stdoutTruncated: false,
  stderrTruncated: false,
  durationMs: 5,
  facts,
});
const fresh = () =>
  new JobState(
    'job-1',
    plan,
    names,
    [
      [0, 1, 2],
      [0, 1, 2],
      [0, 1, 2],
    ],
    -1,
    {
      approval: {
        required: false,
        status: 'not_required',
        planHash: 'h',
        requestedBy: 'r',
        fourEyes: true,
        deadline: null,
      },
      now: at,
    },
  );

describe('step facts in the progress', () => {
  it('counts each target once by its latest run, from the typed result, and carries the size moved', () => {
    const s = fresh();
    const [status, copy, script] = plan.steps.map((p) => p.action);
    noteOutcomeFact(s.data.steps[0], 0, 3, status!, { ok: true, durationMs: 1, output: output({ state: 'active' }) });
    noteOutcomeFact(s.data.steps[0], 1, 3, status!, { ok: true, durationMs: 1, output: output({ state: 'inactive' }) });
    noteOutcomeFact(s.data.steps[0], 2, 3, status!, { ok: true, durationMs: 1, output: output({ state: 'active' }) });
    // Run again on t2 (a retry): it counts once, by its latest run; a failed run states nothing.
    noteOutcomeFact(s.data.steps[0], 2, 3, status!, { ok: false, durationMs: 1 });
    for (const t of [0, 1, 2])
      noteOutcomeFact(s.data.steps[1], t, 3, copy!, { ok: true, durationMs: 1, output: output({ bytes: '45200000' }) });
    // Free output states no fact, whatever it prints.
    noteOutcomeFact(s.data.steps[2], 0, 3, script!, { ok: true, durationMs: 1, output: output({}, '25 copied') });

    const steps = s.snapshot(at).steps;
    expect(steps[0]!.facts).toEqual({ counts: { running: 1, stopped: 1 } });
    expect(describeStepFacts(steps[0]!.facts!)).toBe('1 running, 1 stopped');
    expect(describeStepFacts(steps[1]!.facts!)).toBe('3 copied (45.2 MB each)');
    expect(steps[2]!.facts).toBeUndefined();
    // Carried to a continued run as plain data.
    expect(s.handOver().steps[1]).toMatchObject({ facts: 'CCC', bytes: { min: 45_200_000, max: 45_200_000 } });
  });
});
