import { formatEtaRange, type JobProgress } from '@opsc/contracts';
import { clock, duration } from '../../lib/format';

/**
 * The ETA of a running job, as the seed shows it: a range ("8–12 minutes remaining"), how sure it is
 * and why ("no history for 180 of 200 targets"). Between two progress reads the range counts down
 * with the clock, never below a second while the job runs. Runs from before ranges show one figure.
 */
export const Eta = ({ progress, now }: { progress: JobProgress; now: number }) => {
  const end = progress.eta ? new Date(progress.eta).getTime() : null;
  const remaining = end !== null ? (end - now) / 1000 : progress.estimatedSecondsRemaining;
  const range = progress.etaRange;
  // Seconds since the job answered: its range was as of then.
  const drift =
    end !== null && progress.estimatedSecondsRemaining !== null
      ? Math.max(0, progress.estimatedSecondsRemaining - (end - now) / 1000)
      : 0;
  const low = range ? Math.max(1, range.lowSeconds - drift) : null;
  const high = range ? Math.max(1, range.highSeconds - drift) : null;
  return (
    <span data-testid="eta" {...(range && { 'data-low': low, 'data-high': high, 'data-confidence': range.confidence })}>
      ETA:{' '}
      <strong>
        {remaining === null || remaining === undefined
          ? 'unknown'
          : low !== null && high !== null
            ? `${formatEtaRange(low, high)} remaining`
            : `${duration(Math.max(1, remaining))} remaining`}
      </strong>
      {progress.eta && <span className="muted"> (about {clock(progress.eta)})</span>}
      {range && (
        <span className="muted" data-testid="eta-reason" title={range.reason}>
          {' '}
          · {range.confidence} confidence: {range.reason}
        </span>
      )}
    </span>
  );
};
