import { expect } from 'vitest';
import { eventually, waitForJob, type JobView } from './api.js';
import { control, submitDraft, type Created } from './rollout.js';
import type { SshHarness } from './ssh-harness.js';

/**
 * A rollout whose change is not idempotent (it appends a line) over every host of an sshd fleet, for
 * the tests that kill parts of the platform mid-step: each host's file says how often the change ran.
 * The step then waits `seconds` and leaves `<file>.finished` on the host, so a test can tell that the
 * command has ended there (and its result is on its way back) while a fault lasts.
 */
export interface AppendRollout {
  h: SshHarness;
  /** The inventory group holding every host of the fleet. */
  group: string;
  operator: { token: string };
  approver: { token: string };
}

const steps = (r: AppendRollout, file: string, seconds: number) => [
  {
    id: 'append',
    tool: 'run-script',
    params: { script: `echo applied >> ${file}; sleep ${seconds}; touch ${file}.finished` },
    targets: { group: r.group },
  },
  { id: 'read-back', tool: 'run-command', params: { program: 'cat', args: [file] }, targets: { group: r.group } },
];

/** What `cat` prints on each host (empty where the file is missing). */
export const linesOn = async (h: SshHarness, file: string): Promise<string[]> =>
  Promise.all(h.fleet.hosts.map(async (_, i) => (await h.fleet.exec(i, `cat ${file} 2>/dev/null`)).stdout));

/** How many of the job's activities an executor has picked up and runs now. */
export const startedActivities = async (h: SshHarness, jobId: string): Promise<number> => {
  const description = await h.stack.client.workflow.getHandle(jobId).describe();
  // PendingActivityState 2 = STARTED.
  return (description.raw.pendingActivities ?? []).filter((a) => a.state === 2).length;
};

/** Submits and approves the rollout; returns once every host runs the step and the change has landed on each. */
export const startAppendRollout = async (
  r: AppendRollout,
  apiUrl: string,
  file: string,
  seconds: number,
): Promise<Created> => {
  const size = r.h.fleet.hosts.length;
  const created = await submitDraft(apiUrl, r.operator.token, {
    name: `append to ${file}`,
    steps: steps(r, file, seconds),
    policies: { maxParallel: size },
  });
  expect((await control(apiUrl, r.approver.token, created.id, 'approve', { planHash: created.planHash })).status).toBe(
    200,
  );
  await eventually(
    async () => ((await startedActivities(r.h, created.id)) === size ? true : undefined),
    60_000,
    'every host to be running the step',
  );
  await eventually(
    async () => ((await linesOn(r.h, file)).every((l) => l === 'applied\n') ? true : undefined),
    30_000,
    'the change to land on every host',
  );
  return created;
};

/** Waits until the step's command has ended on every host (its `.finished` marker is there). */
export const waitUntilFinishedOnHosts = (r: AppendRollout, file: string, timeoutMs = 60_000): Promise<true> =>
  eventually(
    async () => {
      const codes = await Promise.all(
        r.h.fleet.hosts.map(async (_, i) => (await r.h.fleet.exec(i, `test -e ${file}.finished`)).code),
      );
      return codes.every((code) => code === 0) ? true : undefined;
    },
    timeoutMs,
    'the step to end on every host',
  );

/** The job completes, every target of both steps succeeded, and the change ran once on each host. */
export const expectAppliedOnce = async (
  r: AppendRollout,
  apiUrl: string,
  jobId: string,
  file: string,
): Promise<JobView> => {
  const job = await waitForJob(apiUrl, r.operator.token, jobId, undefined, 120_000);
  expect(job.status).toBe('completed');
  const all = 'S'.repeat(r.h.fleet.hosts.length);
  expect(job.progress!.matrix).toEqual([all, all]);
  expect(await linesOn(r.h, file)).toEqual(r.h.fleet.hosts.map(() => 'applied\n'));
  for (const result of job.results.filter((x) => x.stepId === 'read-back')) expect(result.stdout).toBe('applied\n');
  return job;
};
