import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinalJobStatus, type JobProgress } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { WorkflowEnv, sshPlan } from './support/env.js';
import { commandOutput, deferred, heldUntil } from './support/fakes.js';

// The live ETA of a running job, read through the progress query as the monitor reads it. The
// fake orchestrator times every step at 1 s per target (a tool's estimate) and knows nothing of the
// platform; each target's run really takes 1.6 s, so the model is wrong and the run must correct it.
let wf: WorkflowEnv;
beforeAll(async () => {
  wf = await WorkflowEnv.start();
});
afterAll(async () => {
  await wf?.stop();
});

const RUN_MS = 1_600;
const TARGETS = ['web-1', 'web-2', 'web-3', 'web-4'];

/** Work left in a snapshot: a step's target still pending or running. */
const workLeft = (p: JobProgress) => p.matrix.some((row) => row.includes('.') || row.includes('>'));
const doneFraction = (p: JobProgress) => {
  const cells = p.matrix.join('');
  return cells.replace(/[.>]/g, '').length / cells.length;
};

describe('the live ETA', () => {
  it('shows a range with its confidence and reason, never 0 while work is left, and converges on the real end', async () => {
    const job = await wf.startJob({
      plan: sshPlan(['a', 'b', 'c', 'd'], { maxParallel: 2 }),
      targets: TARGETS,
      script: async () => {
        await new Promise((r) => setTimeout(r, RUN_MS));
        return commandOutput(0);
      },
    });
    const reads: { at: number; progress: JobProgress }[] = [];
    for (;;) {
      const progress = await job.handle.query(progressQuery).catch(() => null);
      if (progress) {
        reads.push({ at: Date.now(), progress });
        if (isFinalJobStatus(progress.status)) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await job.result()).status).toBe('completed');
    const end = reads.at(-1)!.at;
    const running = reads.filter((r) => r.progress.etaRange && workLeft(r.progress));
    expect(running.length).toBeGreaterThan(10);
    const first = running[0]!;
    expect(first.progress.etaRange).toMatchObject({ confidence: 'low' });
    expect(first.progress.etaRange!.reason).toContain('no recent jobs to learn dispatch from');
    for (const { progress } of running) {
      // Never "0 s remaining" while a target is pending or running, and the range holds the figure.
      expect(progress.estimatedSecondsRemaining).toBeGreaterThanOrEqual(1);
      expect(progress.etaRange!.lowSeconds).toBeGreaterThanOrEqual(1);
      expect(progress.etaRange!.lowSeconds).toBeLessThanOrEqual(progress.estimatedSecondsRemaining!);
      expect(progress.etaRange!.highSeconds).toBeGreaterThanOrEqual(progress.estimatedSecondsRemaining!);
    }
    // The error of the predicted end, as a fraction of the job's actual length from the first read.
    const total = (end - first.at) / 1000;
    const errorOf = (r: (typeof running)[number]) =>
      Math.abs((r.at - first.at) / 1000 + r.progress.estimatedSecondsRemaining! - total) / total;
    const half = running.filter((r) => doneFraction(r.progress) >= 0.5);
    expect(half.length).toBeGreaterThan(0);
    // Half way through, the run's own pace has pulled the estimate in, well below the model's error.
    expect(errorOf(half[0]!)).toBeLessThan(Math.max(0.25, errorOf(first) / 2));
    // Smooth: from one read to the next, the predicted end (by the workflow's clock, which a query
    // reads as of the job's last task) moves by less than a fifth of the job.
    for (const [i, r] of running.entries()) {
      if (i === 0) continue;
      const moved = Date.parse(r.progress.eta!) - Date.parse(running[i - 1]!.progress.eta!);
      expect(Math.abs(moved) / 1000).toBeLessThan(total / 5);
    }
    // Over: no range, no time left.
    const over = reads.at(-1)!.progress;
    expect(over.etaRange).toBeUndefined();
    expect(over.estimatedSecondsRemaining).toBe(0);
  });

  it("does not count a pause as the job's pace: two hours paused leave the time left as it was", async () => {
    const releases = TARGETS.map(() => deferred());
    const started = TARGETS.map(() => deferred());
    const job = await wf.startJob({
      plan: sshPlan(['a'], { maxParallel: 1 }),
      targets: TARGETS,
      script: async ({ target }) => {
        const i = TARGETS.indexOf(target);
        started[i]!.resolve();
        return heldUntil(releases[i]!.promise);
      },
    });
    const left = async () => (await job.handle.query(progressQuery)).estimatedSecondsRemaining!;
    await started[0]!.promise;
    // Paused while the first target runs; it finishes, and no other starts.
    expect((await job.decide('pause', { by: 'olga', role: 'operator' })).message).toMatch(/^paused/);
    releases[0]!.resolve();
    await job.reached('paused');
    // The first target's verdict is in: nothing runs while the job is paused.
    for (let p = await job.handle.query(progressQuery); p.matrix[0]!.includes('>') || p.matrix[0]![0] === '.';) {
      await new Promise((r) => setTimeout(r, 50));
      p = await job.handle.query(progressQuery);
    }
    const before = await left();
    expect(before).toBeGreaterThanOrEqual(1);
    // Two hours pass paused (the server's clock); then the job resumes and the next target starts.
    await wf.env.sleep('2h');
    expect((await job.decide('resume', { by: 'olga', role: 'operator' })).message).toBe('resumed');
    await started[1]!.promise;
    const after = await left();
    // Counted as time the job ran, two hours for a quarter of it would make the rest take hours.
    expect(after).toBeLessThan(before * 2 + 5);
    for (const r of releases) r.resolve();
    expect((await job.result()).status).toBe('completed');
  });
});
