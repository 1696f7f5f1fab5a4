import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cell, type JobProgress } from '@opsc/contracts';
import { allResults, eventually, requestJson, waitForJob } from '../support/api.js';
import { openEventStream } from '../support/sse.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// A target's verdict reaches a live stream as the workflow makes it: the workflow pushes its progress
// at the end of each activation to the process that runs it, and the job's feed sends it on (at most
// one event per 200 ms), instead of asking the `progress` query once a second. Real sshd hosts, a
// real executor, orchestrator, Temporal and PostgreSQL.
const SIZE = 4;
const STEPS = 6;
/** Each step waits this long on every host, so the job runs for at least STEPS x this. */
const STEP_SECONDS = 1;
/** The feed's floor between two progress events of one job (orchestrator/src/api/job-feed.ts). */
const PROGRESS_FLOOR_MS = 200;

interface StreamStats {
  open: number;
  jobs: number;
  lineReads: number;
  progressQueries: number;
  progressPushes?: number;
  progressSent?: number;
}

let h: SshHarness;
let api: string;
let approver: { token: string };

const streamStats = async (): Promise<StreamStats> =>
  (await requestJson<{ streams: StreamStats }>(`${api}/api/health`)).body.streams;

const pct = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

beforeAll(async () => {
  h = await startSshHarness('job-events-push', {
    size: SIZE,
    groups: { Fleet: Array.from({ length: SIZE }, (_, i) => i) },
  });
  api = h.orchestrator.apiUrl;
  await h.stack.startExecutor();
  approver = await h.stack.createUser('approver', { tenant: 'acme', username: 'push-approver' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('progress pushed by the workflow', () => {
  it('brings each verdict to the stream within a fraction of a second, without asking the progress query while verdicts come, and coalesces bursts', async () => {
    const plan = {
      name: 'verdicts in bursts',
      policies: { maxParallel: SIZE, rollback: 'none' },
      steps: Array.from({ length: STEPS }, (_, i) => ({
        id: `wait-${i + 1}`,
        name: `Wait ${STEP_SECONDS} s (${i + 1})`,
        targets: { group: 'Fleet' },
        action: {
          method: 'ssh',
          operation: { op: 'script', shell: 'sh', script: `sleep ${STEP_SECONDS}; echo done` },
        },
      })),
    };
    const created = await requestJson<{ id: string; planHash: string; approvalRequired: boolean }>(`${api}/api/jobs`, {
      token: h.admin.token,
      body: { plan },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const stream = await openEventStream(`${api}/api/jobs/${id}/events`, { token: h.admin.token });
    try {
      expect(stream.status).toBe(200);
      await eventually(
        async () => (stream.events.some((e) => e.event === 'progress') ? true : undefined),
        30_000,
        'a first snapshot',
      );
      if (created.body.approvalRequired) {
        await waitForJob(api, h.admin.token, id, (j) => j.status === 'awaiting_approval', 30_000);
        const approved = await requestJson(`${api}/api/jobs/${id}/approve`, {
          token: approver.token,
          body: { planHash: created.body.planHash },
        });
        expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      }
      // Counted from the first verdict's push on: the queries before it (approval) are the old path's.
      await eventually(
        async () => ((await streamStats()).progressPushes ?? 0) > 0 || undefined,
        60_000,
        'a pushed snapshot',
      );
      const before = await streamStats();
      const startedAt = Date.now();
      await stream.ended;
      const elapsed = Date.now() - startedAt;
      const after = await streamStats();

      const finished = await waitForJob(api, h.admin.token, id);
      expect(finished.status).toBe('completed');
      const progress = stream.events
        .filter((e) => e.event === 'progress')
        .map((e) => ({ at: e.receivedAt, p: JSON.parse(e.data) as JobProgress }));
      expect(stream.events.at(-1)?.event).toBe('end');

      // Each verdict: from when the executor finished the target's step to the first event showing it.
      const results = await allResults(api, h.admin.token, id);
      expect(results).toHaveLength(SIZE * STEPS);
      const delays = results.map((r) => {
        const stepIndex = progress[0]!.p.steps.findIndex((s) => s.id === r.stepId);
        const column = progress[0]!.p.targets.indexOf(r.target.name);
        const first = progress.find((e) => e.p.matrix[stepIndex]?.[column] === Cell.succeeded);
        expect(first, `${r.stepId} on ${r.target.name} never shown as succeeded`).toBeDefined();
        return first!.at - Date.parse(r.finishedAt!);
      });
      // The old feed asked every second: half a second of waiting on average, plus the query.
      expect(pct(delays, 50), JSON.stringify(delays)).toBeLessThan(700);
      expect(pct(delays, 90), JSON.stringify(delays)).toBeLessThan(1_500);

      // While the verdicts came (over STEPS x STEP_SECONDS at least), the feed lived on pushes: the
      // progress query, asked once a second before, was asked at most once or twice.
      expect(elapsed).toBeGreaterThan((STEPS - 1) * STEP_SECONDS * 1000);
      expect(after.progressQueries - before.progressQueries).toBeLessThanOrEqual(2);
      const pushes = (after.progressPushes ?? 0) - (before.progressPushes ?? 0);
      const sent = (after.progressSent ?? 0) - (before.progressSent ?? 0);
      expect(pushes).toBeGreaterThanOrEqual(STEPS);
      // Bursts coalesce: never more than one event per floor, and fewer events than pushes.
      expect(sent).toBeLessThanOrEqual(pushes);
      expect(sent).toBeLessThanOrEqual(Math.ceil(elapsed / PROGRESS_FLOOR_MS) + 2);
      const gaps = progress.slice(1).map((e, i) => e.at - progress[i]!.at);
      // Received times jitter a little around the server's floor.
      expect(gaps.filter((g) => g < PROGRESS_FLOOR_MS - 50).length, JSON.stringify(gaps)).toBeLessThanOrEqual(1);
    } finally {
      stream.close();
    }
  }, 180_000);
});
