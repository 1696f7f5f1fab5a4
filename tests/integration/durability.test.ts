import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { slowThenEcho } from '../support/plans.js';
import { createTestStack, type RunningOrchestrator, type TestStack } from '../support/stack.js';

/** The one pending activity of a job, as Temporal describes it. */
const pendingActivity = async (stack: TestStack, jobId: string) => {
  const description = await stack.client.workflow.getHandle(jobId).describe();
  return description.raw.pendingActivities?.[0];
};

// PendingActivityState: 1 = SCHEDULED, 2 = STARTED.
const SCHEDULED = 1;
const STARTED = 2;

const stepRows = async (stack: TestStack, jobId: string, stepId: string) =>
  (
    await stack.pool.query('SELECT attempt, exit_code, status FROM step_results WHERE job_id = $1 AND step_id = $2', [
      jobId,
      stepId,
    ])
  ).rows;

describe('durability: the orchestrator cannot execute, and workers may die mid-job', () => {
  let stack: TestStack;
  let orchestrator: RunningOrchestrator;
  let token: string;

  /** Submits a sleep-then-echo job and returns once its slow step is running on an executor. */
  const startSlowJob = async (name: string, sleepSeconds: number): Promise<string> => {
    const { body } = await requestJson<{ id: string }>(`${orchestrator.apiUrl}/api/jobs`, {
      body: { plan: slowThenEcho(name, sleepSeconds) },
      token,
    });
    await eventually(
      async () => ((await pendingActivity(stack, body.id))?.state === STARTED ? true : undefined),
      30_000,
      'the slow step to start',
    );
    return body.id;
  };

  beforeAll(async () => {
    stack = await createTestStack('durability');
    orchestrator = await stack.startOrchestrator();
    ({ token } = await stack.createUser('operator'));
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('leaves an execution step scheduled on the executor queue until an executor runs it', async () => {
    const plan = {
      name: 'waits for an executor',
      steps: [{ id: 'hello', name: 'Hello', action: { method: 'local-command', command: 'echo', args: ['ran'] } }],
    };
    const { body } = await requestJson<{ id: string }>(`${orchestrator.apiUrl}/api/jobs`, { body: { plan }, token });
    const activity = await eventually(
      async () => {
        const pending = await pendingActivity(stack, body.id);
        return pending?.activityType?.name === 'runLocalCommand' ? pending : undefined;
      },
      30_000,
      'the execution activity to be scheduled',
    );
    expect(activity.state).toBe(SCHEDULED);

    // With only the orchestrator polling, nothing runs however long we wait.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await pendingActivity(stack, body.id))?.state).toBe(SCHEDULED);
    expect(await stepRows(stack, body.id, 'hello')).toEqual([]);
    const running = await requestJson<{
      status: string;
      progress: { currentStep: number; steps: { status: string }[] };
    }>(`${orchestrator.apiUrl}/api/jobs/${body.id}`, { token });
    expect(running.body.status).toBe('running');
    expect(running.body.progress.steps[0]?.status).toBe('running');

    const executor = await stack.startExecutor();
    const job = await waitForJob(orchestrator.apiUrl, token, body.id);
    expect(job.status).toBe('completed');
    expect(job.results[0]).toMatchObject({ stdout: 'ran\n', status: 'succeeded' });
    await executor.service.stop();
  });

  it('finishes a step whose executor was SIGKILLed mid-command, recording its result once', async () => {
    const first = await stack.startExecutor();
    const jobId = await startSlowJob('survives an executor crash', 4);
    first.service.kill('SIGKILL');
    await first.service.exited;

    const second = await stack.startExecutor();
    const job = await waitForJob(orchestrator.apiUrl, token, jobId, undefined, 90_000);
    expect(job.status).toBe('completed');
    const rows = await stepRows(stack, jobId, 'slow');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ attempt: 2, exit_code: 0, status: 'succeeded' });
    expect(job.progress?.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    await second.service.stop();
  });

  it('finishes a job whose orchestrator was killed and restarted mid-job', async () => {
    const executor = await stack.startExecutor();
    const jobId = await startSlowJob('survives an orchestrator crash', 3);
    orchestrator.service.kill('SIGKILL');
    await orchestrator.service.exited;

    orchestrator = await stack.startOrchestrator();
    const job = await waitForJob(orchestrator.apiUrl, token, jobId, undefined, 90_000);
    expect(job.status).toBe('completed');
    expect(job.results.map((r) => [r.stepId, r.status])).toEqual([
      ['slow', 'succeeded'],
      ['after', 'succeeded'],
    ]);
    const status = await stack.pool.query('SELECT status, finished_at FROM jobs WHERE id = $1', [jobId]);
    expect(status.rows[0]).toMatchObject({ status: 'completed' });
    expect(status.rows[0].finished_at).toBeInstanceOf(Date);
    await executor.service.stop();
  });
});
