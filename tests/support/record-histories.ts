import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { RUN_JOB_WORKFLOW, SearchAttribute } from '@opsc/contracts/temporal';
import { REPO_ROOT } from '@opsc/dev';
import { historyToJson } from './history-json.js';

type History = temporal.api.history.v1.IHistory;

/**
 * The kinds of closed runs the replay test keeps one history of (the shortest of each), per workflow
 * type, in the order a run is classified: the first kind that fits it.
 */
const RUN_JOB_KINDS: Kind[] = [
  { name: 'continued-as-new', fits: (r) => r.closeStatus === 'CONTINUED_AS_NEW' },
  { name: 'continued-run', fits: (r) => r.continued },
  // The paths of issue 19: before the generic ones, which such runs would also fit.
  { name: 'check-mode', fits: (r) => r.input.mode === 'check' },
  { name: 'retry-job', fits: (r) => r.input.resume !== undefined },
  { name: 'template-pre-approved', fits: (r) => r.preApproved },
  { name: 'approval-timed-out', fits: (r) => r.finalStatus === 'rejected' && !r.updates.has('reject') },
  { name: 'rejected', fits: (r) => r.updates.has('reject') },
  { name: 'cancelled', fits: (r) => r.finalStatus === 'cancelled' },
  { name: 'decided-rollback', fits: (r) => r.updates.has('decide') && r.statuses.has('rolling_back') },
  { name: 'decided-continue', fits: (r) => r.updates.has('decide') },
  { name: 'rolled-back', fits: (r) => r.statuses.has('rolling_back') },
  { name: 'target-rolled-back', fits: (r) => r.undid },
  { name: 'paused-resumed', fits: (r) => r.updates.has('pause') && r.updates.has('resume') },
  { name: 'approved-completed', fits: (r) => r.updates.has('approve') && r.finalStatus === 'completed' },
  { name: 'completed', fits: (r) => r.finalStatus === 'completed' },
];

/** A job's notification (`notifyJob`) and an admin's test (`notifyTest`): only runs that delivered something. */
const NOTIFY_JOB_KINDS: Kind[] = [
  { name: 'notify-job-failed-channel', fits: (r) => r.activities.failed > 0 },
  { name: 'notify-job-retried', fits: (r) => r.activities.retried > 0 },
  { name: 'notify-job-delivered', fits: (r) => r.activities.completed > 0 },
];
const NOTIFY_TEST_KINDS: Kind[] = [{ name: 'notify-test-delivered', fits: (r) => r.activities.completed > 0 }];

const WORKFLOW_KINDS: [workflowType: string, kinds: Kind[]][] = [
  [RUN_JOB_WORKFLOW, RUN_JOB_KINDS],
  ['notifyJob', NOTIFY_JOB_KINDS],
  ['notifyTest', NOTIFY_TEST_KINDS],
];

interface Kind {
  name: string;
  fits: (run: RunFeatures) => boolean;
}

interface RunFeatures {
  closeStatus: string;
  /** Started by a continue-as-new. */
  continued: boolean;
  /** The workflow's single argument (`RunJobInput` for a job: its `mode`, its `resume`). */
  input: { mode?: unknown; resume?: unknown };
  /** Every `OpscStatus` the run set, and the last one. */
  statuses: Set<string>;
  finalStatus: string | undefined;
  /** Names of the updates the run accepted. */
  updates: Set<string>;
  /** It scheduled an undo (a `<step>.rollback` action). */
  undid: boolean;
  /** An approval it confirmed was a template's pre-approval (the decision the run recorded says so). */
  preApproved: boolean;
  /** Activities that completed, failed for good, and were started again after a failed attempt. */
  activities: { completed: number; failed: number; retried: number };
}

const decode = (data: Uint8Array | null | undefined): unknown => {
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined; // not a JSON payload (binary/null)
  }
};

const featuresOf = (closeStatus: string, history: History): RunFeatures => {
  const statuses: string[] = [];
  const updates = new Set<string>();
  const activities = { completed: 0, failed: 0, retried: 0 };
  let input: RunFeatures['input'] = {};
  let continued = false;
  let undid = false;
  let preApproved = false;
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
    const stepId = (decode(scheduled?.data) as { stepId?: unknown } | undefined)?.stepId;
    if (typeof stepId === 'string' && stepId.endsWith('.rollback')) undid = true;
    const started = event.workflowExecutionStartedEventAttributes;
    if (started?.continuedExecutionRunId) continued = true;
    if (started) input = (decode(started.input?.payloads?.[0]?.data) as RunFeatures['input'] | undefined) ?? {};
    const status =
      event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[
        SearchAttribute.status.name
      ];
    if (status) statuses.push(String(decode(status.data)));
    const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    if (update) updates.add(update);
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      activities.completed++;
      const result = decode(completed.result?.payloads?.[0]?.data) as
        { decision?: { action?: unknown; comment?: unknown } } | undefined;
      const comment = result?.decision?.comment;
      if (result?.decision?.action === 'approve' && typeof comment === 'string' && comment.startsWith('pre-approved:'))
        preApproved = true;
    }
    if (event.activityTaskFailedEventAttributes) activities.failed++;
    if ((event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) activities.retried++;
  }
  return {
    closeStatus,
    continued,
    input,
    statuses: new Set(statuses),
    finalStatus: statuses.at(-1),
    updates,
    undid,
    preApproved,
    activities,
  };
};

/** Where a recording goes: tests/histories/<UTC date>-<commit>, so that each workflow version's recording stays beside the others. */
const recordingDir = (): string => {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: the date alone names the recording.
  }
  return path.join(REPO_ROOT, 'tests', 'histories', `${new Date().toISOString().slice(0, 10)}-${commit}`);
};

/**
 * Saves, from every test namespace (`t-…`) of a Temporal server, one closed history of each kind in
 * WORKFLOW_KINDS (the shortest: `runJob`, `notifyJob`, `notifyTest` runs) as `tests/histories/<date>-<commit>/<kind>.json` (a recording of the
 * same day and commit is replaced; earlier recordings stay). Called by the integration set-up's
 * teardown when OPSC_RECORD_HISTORIES=1, after the run's secret scan passed over these same histories.
 */
export const recordHistories = async (address: string): Promise<void> => {
  const dir = recordingDir();
  const connection = await Connection.connect({ address });
  const chosen = new Map<string, { events: number; history: History }>();
  try {
    const { namespaces } = await connection.workflowService.listNamespaces({ pageSize: 1000 });
    for (const ns of namespaces ?? []) {
      const namespace = ns.namespaceInfo?.name ?? '';
      if (!namespace.startsWith('t-')) continue;
      const client = new Client({ connection, namespace });
      for (const [workflowType, kinds] of WORKFLOW_KINDS)
        for await (const wf of client.workflow.list({
          query: `WorkflowType = '${workflowType}' AND ExecutionStatus != 'Running'`,
        })) {
          const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
          const kind = kinds.find((k) => k.fits(featuresOf(wf.status.name, history)));
          const events = history.events?.length ?? 0;
          if (!kind) continue;
          const best = chosen.get(kind.name);
          if (!best || events < best.events) chosen.set(kind.name, { events, history });
        }
    }
  } finally {
    await connection.close();
  }
  await mkdir(dir, { recursive: true });
  for (const file of await readdir(dir)) if (file.endsWith('.json')) await rm(path.join(dir, file));
  for (const [kind, { history }] of chosen) {
    await writeFile(path.join(dir, `${kind}.json`), `${JSON.stringify(historyToJson(history), null, 1)}\n`);
  }
  const kinds = [...chosen.keys()].sort();
  console.log(`[histories] recorded ${kinds.join(', ') || 'nothing'} in ${path.relative(REPO_ROOT, dir)}/`);
};
