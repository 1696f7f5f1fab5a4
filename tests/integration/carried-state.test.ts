import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CARRIED_JOB_STATE_VERSION, Plan, type RunJobInput } from '@opsc/contracts';
import { REPO_ROOT } from '@opsc/dev';
import { JobState } from '@opsc/workflows/job-state';

// A run of `runJob` takes handed-over state only from a run that continued as new (see
// security-approvals), and then only in a version and shape it reads: state written by other code
// (a newer worker rolled back, say) fails the run at once, naming the version, instead of being
// misread. A workflow of the test's own continues as new into `runJob` to hand it such state;
// nothing gets as far as an activity, so no orchestrator or executor is needed.

const plan = Plan.parse({
  name: 'handed over',
  steps: [{ id: 'hello', name: 'hello', action: { method: 'local-command', command: 'echo', args: ['hello'] } }],
});
const approval = { required: false, reasons: [], fourEyes: false, timeoutSeconds: 60 };
const input = (jobId: string, carried: unknown): RunJobInput => ({
  jobId,
  tenantId: 'tenant',
  plan,
  planHash: 'h'.repeat(64),
  risk: 'read',
  targetGroup: null,
  targets: [],
  stepTargets: {},
  requestedBy: 'rita',
  approval,
  options: { heartbeatTimeoutSeconds: 30, historyEventLimit: 10_000 },
  carried,
});
/** State as a run of version 1 hands it over after its approval, its steps not begun. */
const handedOver = (): Record<string, unknown> => {
  const state = new JobState('job', plan, ['executor'], [[0]], 0, {
    approval: {
      required: false,
      status: 'not_required',
      planHash: 'h',
      requestedBy: 'rita',
      fourEyes: false,
      deadline: null,
    },
    now: new Date(),
  });
  state.data.phase = 'running';
  return JSON.parse(JSON.stringify(state.handOver())) as Record<string, unknown>;
};

describe('state handed over to a continued run', () => {
  let connection: NativeConnection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `carried-state-${randomUUID()}`;

  beforeAll(async () => {
    await mkdir(path.join(REPO_ROOT, '.cache'), { recursive: true });
    const dir = await mkdtemp(path.join(REPO_ROOT, '.cache', 'hand-over-workflow-'));
    const file = path.join(dir, 'hand-over.js');
    await writeFile(
      file,
      `import { makeContinueAsNewFunc } from '@temporalio/workflow';
export { runJob } from '@opsc/workflows';
export const handOver = (input) => makeContinueAsNewFunc({ workflowType: 'runJob' })(input);
`,
    );
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    worker = await Worker.create({ connection, namespace: 'default', taskQueue, workflowsPath: file });
    running = worker.run();
    client = new Client({
      connection: await Connection.connect({ address: inject('temporalAddress') }),
      namespace: 'default',
    });
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await client?.connection.close();
    await connection?.close();
  });

  /** How the continued run of `runJob` ended: the type and message of its failure. */
  const continued = async (
    carried: unknown,
  ): Promise<{ type: string | undefined; message: string; nonRetryable: boolean }> => {
    const workflowId = `carried-state-${randomUUID()}`;
    try {
      await client.workflow.execute('handOver', { taskQueue, workflowId, args: [input(workflowId, carried)] });
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure)
        return {
          type: err.cause.type ?? undefined,
          message: err.cause.message,
          nonRetryable: err.cause.nonRetryable === true,
        };
      throw err;
    }
    throw new Error(`the continued run of ${workflowId} ran to its end`);
  };

  it('fails the run, naming the version, for a version this code does not read', async () => {
    expect(handedOver().version).toBe(CARRIED_JOB_STATE_VERSION);
    expect(await continued({ ...handedOver(), version: 2 })).toEqual({
      type: 'ValidationFailed',
      message: 'refused to continue: the handed-over state is version 2; this code reads version 1 only',
      nonRetryable: true,
    });
  });

  it("fails the run, saying where, for state that is not its version's shape", async () => {
    const { message, type } = await continued({ ...handedOver(), phase: 'anywhere' });
    expect(type).toBe('ValidationFailed');
    expect(message).toMatch(
      /^refused to continue: the handed-over state \(version 1\) does not fit its schema at phase: /,
    );
  });
});
