import type { JobProgress } from '@opsc/contracts';

/** One read of a running job's ETA: when, how far the job was, and the end it predicted. */
export interface EtaReading {
  /** Epoch ms of the read. */
  at: number;
  /** Fraction of the job's (step, target) cells over (not pending, not running). */
  done: number;
  /** Epoch ms the job was expected to end at. */
  end: number;
  range: JobProgress['etaRange'];
}

/** The ETA of a progress answer read at `at`, or null when it showed none or the job was over. */
export const etaReading = (
  progress: Pick<JobProgress, 'eta' | 'matrix' | 'finishedAt' | 'etaRange'> | null | undefined,
  at: number,
): EtaReading | null => {
  if (!progress?.eta || progress.finishedAt) return null;
  const cells = progress.matrix.join('').replace(/ /g, '');
  const over = cells.replace(/[.>]/g, '').length;
  return { at, done: cells.length ? over / cells.length : 0, end: Date.parse(progress.eta), range: progress.etaRange };
};

/** The error of the predicted end, as a fraction of the job's length from `startedAt` (negative: too early). */
export interface EtaErrors {
  first: number | null;
  at25: number | null;
  at50: number | null;
  /** The first estimate's range and confidence, as the monitor showed them. */
  shown: string | null;
}

/** Errors of the first reading and of the first ones at 25% and 50% done, against the actual end. */
export const etaErrors = (readings: readonly EtaReading[], startedAt: number, endedAt: number): EtaErrors => {
  const length = Math.max(1, endedAt - startedAt);
  const error = (r: EtaReading | undefined) => (r ? (r.end - endedAt) / length : null);
  const first = readings[0];
  const range = first?.range;
  return {
    first: error(first),
    at25: error(readings.find((r) => r.done >= 0.25)),
    at50: error(readings.find((r) => r.done >= 0.5)),
    shown: range
      ? `${range.lowSeconds}–${range.highSeconds} s, ${range.confidence} confidence (${range.reason})`
      : null,
  };
};

const pctOf = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`);

/** "first +12%, at 25% -4%, at 50% +1%". */
export const formatEtaErrors = (e: EtaErrors): string =>
  `first ${pctOf(e.first)}, at 25% ${pctOf(e.at25)}, at 50% ${pctOf(e.at50)}`;
