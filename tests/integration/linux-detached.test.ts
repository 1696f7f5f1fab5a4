import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, waitForJob } from '../support/api.js';
import { control, submitDraft } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import type { RunningOrchestrator } from '../support/stack.js';

// A change over SSH runs apart from the executor's connection: an executor SIGKILLed while the
// command runs, and the command printing after that, neither kills the command nor changes its
// result. The retry on a new executor follows the same run, streams its output and reports it.
let h: SshHarness;
let api: RunningOrchestrator;
let operator: { token: string };
let approver: { token: string };

beforeAll(async () => {
  h = await startSshHarness('linux-detached', { size: 1, groups: { Detached: [0] } });
  // A short heartbeat timeout, so a dead executor's step is retried within seconds.
  api = await h.stack.startOrchestrator({ JOB_HEARTBEAT_TIMEOUT_SECONDS: '4' });
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

const onHost = async (script: string) => (await h.fleet.exec(0, script)).stdout;

/** The job's one pending activity, as Temporal describes it. */
const pending = async (jobId: string) =>
  (await h.stack.client.workflow.getHandle(jobId).describe()).raw.pendingActivities?.[0];
// PendingActivityState 2 = STARTED.
const STARTED = 2;

const linesOf = async (jobId: string, attempt: number): Promise<string[]> =>
  (
    await h.stack.pool.query<{ line: string }>(
      'SELECT line FROM output_lines WHERE job_id = $1 AND step_id = $2 AND attempt = $3 ORDER BY seq',
      [jobId, 'change', attempt],
    )
  ).rows.map((r) => r.line);

describe('a change over SSH outlives the executor that started it', () => {
  it('finishes a command that prints after its executor was SIGKILLed, once, with its output and exit code', async () => {
    // The script waits at two gates the test opens, so every line after the first gate is printed
    // after the kill, however slow the machine.
    const script = [
      'echo applied >> /tmp/detached-changes',
      'echo before-kill',
      'while [ ! -e /tmp/detached-go-1 ]; do sleep 0.1; done',
      'echo after-kill-1',
      'echo after-kill-err >&2',
      'while [ ! -e /tmp/detached-go-2 ]; do sleep 0.1; done',
      'echo after-kill-2',
    ].join('\n');
    const first = await h.stack.startExecutor();
    const created = await submitDraft(api.apiUrl, operator.token, {
      name: 'prints after an executor crash',
      steps: [{ id: 'change', tool: 'run-script', params: { script }, targets: { group: 'Detached' } }],
    });
    expect(
      (await control(api.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash })).status,
    ).toBe(200);
    await eventually(
      async () => ((await pending(created.id))?.state === STARTED ? true : undefined),
      60_000,
      'the step to start',
    );
    await eventually(
      async () => ((await onHost('cat /tmp/detached-changes 2>/dev/null')) === 'applied\n' ? true : undefined),
      30_000,
      'the change to land',
    );

    first.service.kill('SIGKILL');
    await first.service.exited;
    const second = await h.stack.startExecutor();
    await eventually(
      async () => {
        const activity = await pending(created.id);
        return activity?.state === STARTED && (activity.attempt ?? 0) >= 2 ? true : undefined;
      },
      60_000,
      'a retry of the step to start on the new executor',
    );
    const retry = (await pending(created.id))?.attempt ?? 0;
    await onHost('touch /tmp/detached-go-1');
    // The retry follows the run still going on the host (the second gate holds it): a line printed
    // after the kill reaches the retry's live output while the job runs.
    const streamedLive = await eventually(
      async () => {
        if ((await linesOf(created.id, retry)).includes('after-kill-1')) return true;
        return (await waitForJob(api.apiUrl, operator.token, created.id, () => true)).status === 'running'
          ? undefined
          : false;
      },
      30_000,
      'a line printed after the kill to stream, or the job to end',
    );
    await onHost('touch /tmp/detached-go-2');

    const job = await waitForJob(api.apiUrl, operator.token, created.id, undefined, 90_000);
    expect(job.status).toBe('completed');
    const [result] = job.results.filter((r) => r.stepId === 'change');
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, attempt: retry });
    expect(result?.stdout).toMatch(
      /^before-kill\nafter-kill-1\nafter-kill-2\nalready done by attempt 1 at \S+; not run again \(run marker \S+\)\n$/,
    );
    expect(result?.stderr).toContain('after-kill-err\n');
    expect(streamedLive).toBe(true);
    expect(await linesOf(created.id, retry)).toEqual(
      expect.arrayContaining(['before-kill', 'after-kill-1', 'after-kill-err', 'after-kill-2']),
    );
    // Applied exactly once, and the run finished on the host (its marker says exit 0).
    expect(await onHost('cat /tmp/detached-changes')).toBe('applied\n');
    expect(await onHost(`cat "$HOME/.local/state/opsconductor/runs/${created.id}/change/${h.targetIds[0]}"`)).toMatch(
      /^exit=0\nat=\S+Z\nattempt=1\n$/,
    );
    await second.service.stop();
  }, 240_000);
});
