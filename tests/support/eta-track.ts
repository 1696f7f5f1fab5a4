import type { JobProgress } from '@opsc/contracts';
import { requestJson, waitForJob, type JobView } from './api.js';
import { control, type Created } from './rollout.js';

/** The error of the predicted end, as a fraction of the job's length from its approval. */
export interface EtaErrors {
  first: number | null;
  at25: number | null;
  at50: number | null;
  /** The first range shown, with its confidence and reason. */
  shown: string | null;
}

/**
 * Approves the job and reads its ETA every 250 ms while it runs (`GET /api/jobs/:id`), as the
 * monitor does; returns the finished job and the errors of the first ETA and of those at 25% and
 * 50% of its (step, target) cells done, against when it really ended.
 */
export const approveAndTrack = async (
  apiUrl: string,
  operatorToken: string,
  approverToken: string,
  created: Created,
  timeoutMs = 300_000,
): Promise<{ job: JobView; errors: EtaErrors }> => {
  await waitForJob(apiUrl, operatorToken, created.id, (j) => j.status === 'awaiting_approval', 30_000);
  const approvedAt = Date.now();
  const approved = await control(apiUrl, approverToken, created.id, 'approve', { planHash: created.planHash });
  if (approved.status !== 200) throw new Error(`approve: ${approved.status} ${JSON.stringify(approved.body)}`);
  const readings: { done: number; end: number; range: JobProgress['etaRange'] }[] = [];
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const { body } = await requestJson<{ progress: JobProgress | null }>(`${apiUrl}/api/jobs/${created.id}`, {
      token: operatorToken,
    });
    const p = body.progress;
    if (p?.finishedAt) break;
    if (p?.eta) {
      const cells = p.matrix.join('').replace(/ /g, '');
      const done = cells.length ? cells.replace(/[.>]/g, '').length / cells.length : 0;
      readings.push({ done, end: Date.parse(p.eta), range: p.etaRange });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const job = await waitForJob(apiUrl, operatorToken, created.id, undefined, timeoutMs);
  const endedAt = Date.parse(job.progress?.finishedAt ?? '') || Date.now();
  const length = Math.max(1, endedAt - approvedAt);
  const error = (r: (typeof readings)[number] | undefined) => (r ? (r.end - endedAt) / length : null);
  const range = readings[0]?.range;
  return {
    job,
    errors: {
      first: error(readings[0]),
      at25: error(readings.find((r) => r.done >= 0.25)),
      at50: error(readings.find((r) => r.done >= 0.5)),
      shown: range ? `${range.lowSeconds}–${range.highSeconds} s, ${range.confidence}: ${range.reason}` : null,
    },
  };
};

const pct = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`);

/** "first +12%, at 25% -4%, at 50% +1%". */
export const formatEtaErrors = (e: EtaErrors): string =>
  `first ${pct(e.first)}, at 25% ${pct(e.at25)}, at 50% ${pct(e.at50)}`;
