import { requestJson, waitForJob, type JobView } from './api.js';

export interface Proposal {
  status: string;
  planner: string;
  draft: {
    steps: { id: string; tool: string; params: Record<string, unknown> }[];
    policies: Record<string, unknown>;
  } & Record<string, unknown>;
  missing: { path: string; question: string }[];
  summary: { approvalRequired: boolean; risk: string; bullets: string[] } | null;
  planHash: string | null;
}

export interface Created {
  id: string;
  planHash: string;
  approvalRequired: boolean;
  risk: string;
  mode?: 'run' | 'check';
}

/** Asks the planner for a plan of `request` and fills what it asked for (`fill` gets each missing param by step tool and name). */
export const proposeAndFill = async (
  apiUrl: string,
  token: string,
  request: string,
  fill: (tool: string, param: string) => unknown = () => undefined,
): Promise<Proposal> => {
  const { status, body } = await requestJson<Proposal>(`${apiUrl}/api/plans`, { token, body: { request } });
  if (status !== 200) throw new Error(`POST /api/plans: ${status} ${JSON.stringify(body)}`);
  for (const m of body.missing) {
    // Paths look like steps.2.params.source.
    const [, index, , param] = m.path.split('.');
    const step = body.draft.steps[Number(index)];
    if (!step || !param) throw new Error(`cannot fill ${m.path}`);
    const value = fill(step.tool, param);
    if (value === undefined)
      throw new Error(`the planner asks for ${m.path} (${m.question}) and the test has no answer`);
    step.params[param] = value;
  }
  return body;
};

/** Submits a draft as a job; the answer names its plan hash and whether it waits for approval. */
export const submitDraft = async (apiUrl: string, token: string, draft: unknown): Promise<Created> => {
  const { status, body } = await requestJson<Created>(`${apiUrl}/api/jobs`, { token, body: { draft } });
  if (status !== 201) throw new Error(`POST /api/jobs: ${status} ${JSON.stringify(body)}`);
  return body;
};

export const control = (
  apiUrl: string,
  token: string,
  jobId: string,
  action: string,
  body: Record<string, unknown> = {},
) =>
  requestJson<{ status?: string; message?: string; error?: { type: string; message: string } }>(
    `${apiUrl}/api/jobs/${jobId}/${action}`,
    { token, body },
  );

/** Waits until the job waits for approval, approves it as `approver`, and waits for it to end. */
export const approveAndWait = async (
  apiUrl: string,
  operatorToken: string,
  approverToken: string,
  created: Created,
  timeoutMs = 300_000,
): Promise<JobView> => {
  await waitForJob(apiUrl, operatorToken, created.id, (j) => j.status === 'awaiting_approval', 30_000);
  const approved = await control(apiUrl, approverToken, created.id, 'approve', {
    planHash: created.planHash,
    comment: 'change window CHG-1234',
  });
  if (approved.status !== 200) throw new Error(`approve: ${approved.status} ${JSON.stringify(approved.body)}`);
  return waitForJob(apiUrl, operatorToken, created.id, undefined, timeoutMs);
};
