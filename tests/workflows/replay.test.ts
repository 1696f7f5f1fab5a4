import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { createRequire } from 'node:module';
import { bundleWorkflowCode, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { REPO_ROOT } from '@opsc/dev';
import { historyFromJson } from '../support/history-json.js';
import './support/quiet-runtime.js';

const require = createRequire(import.meta.url);

/**
 * Replays the stored histories of real jobs and their notifications (tests/histories/, recorded from the integration suite by
 * scripts/record-histories.sh) with the current workflow code. A change that would make a job
 * already running in production fail its next workflow task (a command added, removed, reordered)
 * fails here. See docs/workflow-versioning.md.
 */

const DIR = path.join(REPO_ROOT, 'tests', 'histories');

/** The kinds a recording must keep (`runJob`, `notifyJob` and `notifyTest` runs): each drives a workflow down a different path. */
const REQUIRED = [
  'approval-timed-out',
  'approved-completed',
  'cancelled',
  'check-mode',
  'continued-as-new',
  'continued-run',
  'decided-continue',
  'decided-rollback',
  'notify-job-delivered',
  'notify-job-failed-channel',
  'notify-job-retried',
  'notify-test-delivered',
  'rejected',
  'retry-job',
  'target-rolled-back',
  'template-pre-approved',
];

/** When a recording's commit was made (0 when git does not know it): orders recordings of one day. */
const commitTime = (folder: string): number => {
  const commit = folder.slice('YYYY-MM-DD-'.length);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct', commit], { cwd: REPO_ROOT, encoding: 'utf8' }));
  } catch {
    return 0;
  }
};

/** The recordings (`<date>-<commit>` folders), oldest first: by date, then by their commit's time (not its hash). */
const recordings = async (): Promise<string[]> =>
  (await readdir(DIR, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => ({ name: e.name, day: e.name.slice(0, 10), at: commitTime(e.name) }))
    .sort((a, b) => a.day.localeCompare(b.day) || a.at - b.at || a.name.localeCompare(b.name))
    .map((r) => r.name);

/** Every stored history, as `<recording>/<kind>.json`. */
const stored = async (): Promise<string[]> => {
  const out: string[] = [];
  for (const rec of await recordings())
    for (const f of await readdir(path.join(DIR, rec))) if (f.endsWith('.json')) out.push(`${rec}/${f}`);
  return out;
};

describe('stored workflow histories', () => {
  it('include a recording of the newest workflow code with one history of each kind', async () => {
    const newest = (await recordings()).at(-1);
    expect(newest).toBeDefined();
    const kinds = (await readdir(path.join(DIR, newest!))).map((f) => f.replace(/\.json$/, ''));
    expect(kinds).toEqual(expect.arrayContaining(REQUIRED));
  });

  /** Replays every stored history with the bundle; the failures, and how many replayed. */
  const replayAll = async (options: ReplayWorkerOptions) => {
    const files = await stored();
    async function* histories() {
      for (const file of files)
        yield { workflowId: file, history: historyFromJson(JSON.parse(await readFile(path.join(DIR, file), 'utf8'))) };
    }
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(options, histories())) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
    }
    return { failures, replayed, files: files.length };
  };

  it('replay with the current workflow code without a determinism error', async () => {
    const { failures, replayed, files } = await replayAll({
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    expect(failures).toEqual([]);
    expect(replayed).toBe(files);
  });

  it('replay the same with the tracing interceptors in the workflow (docs/tracing.md): they add no command', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('@opsc/workflows'),
      workflowInterceptorModules: [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')],
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const { failures, replayed, files } = await replayAll({
      workflowBundle: { code },
      sinks: { exporter: { export: { fn: () => undefined } } },
    });
    expect(failures).toEqual([]);
    expect(replayed).toBe(files);
  }, 120_000);
  it('replay the same with the progress push (docs/live-output.md): it adds no command, and pushes nothing on replay', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('@opsc/workflows'),
      workflowInterceptorModules: [require.resolve('@opsc/workflows/progress-push')],
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    let pushed = 0;
    const { failures, replayed, files } = await replayAll({
      workflowBundle: { code },
      sinks: { jobProgress: { changed: { fn: () => void (pushed += 1) } } },
    });
    expect(failures).toEqual([]);
    expect(replayed).toBe(files);
    expect(pushed).toBe(0);
  }, 120_000);
});
