import type { JobProgress } from '@opsc/contracts';
import { clock, duration } from '../../lib/format';

const pct = (n: number, total: number) => (total > 0 ? `${(100 * n) / total}%` : '0%');

/** The seed's "LIVE PROGRESS MONITOR": step bar, step name, target bar with counts, who is running, times. */
export const ProgressHeader = ({ progress, now }: { progress: JobProgress; now: number }) => {
  const t = progress.targetProgress;
  const stepsDone = progress.steps.filter(
    (s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped',
  ).length;
  const remaining = progress.eta ? (new Date(progress.eta).getTime() - now) / 1000 : progress.estimatedSecondsRemaining;
  const shown = t.currentTargets.slice(0, 6);
  return (
    <section className="panel progress-head" aria-label="Progress">
      <div className="times row small">
        <span>
          Started: <strong data-testid="started-at">{clock(progress.startedAt)}</strong>
        </span>
        {progress.finishedAt ? (
          <span>
            Finished: <strong>{clock(progress.finishedAt)}</strong> (took{' '}
            {duration((new Date(progress.finishedAt).getTime() - new Date(progress.startedAt).getTime()) / 1000)})
          </span>
        ) : (
          <span data-testid="eta">
            ETA:{' '}
            <strong>
              {remaining === null || remaining === undefined
                ? 'unknown'
                : `${duration(Math.max(0, remaining))} remaining`}
            </strong>
            {progress.eta && <span className="muted"> (about {clock(progress.eta)})</span>}
          </span>
        )}
        {progress.paused && <span className="badge s-paused">paused: nothing new starts</span>}
        {progress.cancelRequested && <span className="badge s-cancelled">cancel requested</span>}
      </div>

      <div className="bar-label row">
        <span>Step progress</span>
        <span className="spacer" />
        <strong data-testid="step-of">
          Step {progress.currentStep} of {progress.totalSteps}
        </strong>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label="Steps"
        aria-valuemin={0}
        aria-valuemax={progress.totalSteps}
        aria-valuenow={stepsDone}
      >
        <span className="seg seg-step" style={{ width: pct(stepsDone, progress.totalSteps) }} />
      </div>
      <p className="current-step">
        Current step: <strong data-testid="step-name">{progress.stepName ?? '—'}</strong>
      </p>

      <div className="bar-label row">
        <span>Target progress</span>
        <span className="spacer" />
        <strong data-testid="target-fraction">
          {t.completed + t.failed}/{t.total} targets
        </strong>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label="Targets"
        aria-valuemin={0}
        aria-valuemax={t.total}
        aria-valuenow={t.completed + t.failed}
      >
        <span className="seg seg-ok" style={{ width: pct(t.completed, t.total) }} />
        <span className="seg seg-fail" style={{ width: pct(t.failed, t.total) }} />
        <span className="seg seg-run" style={{ width: pct(t.running, t.total) }} />
      </div>
      <p
        className="counts"
        data-testid="target-counts"
        data-completed={t.completed}
        data-failed={t.failed}
        data-pending={t.pending}
        data-running={t.running}
        data-total={t.total}
      >
        <span className="ok-text">✓ {t.completed} Completed</span>
        <span className="fail-text">✗ {t.failed} Failed</span>
        <span className="run-text">▶ {t.running} Running</span>
        <span className="muted">○ {t.pending} Pending</span>
        {t.rolledBack > 0 && <span className="muted">↺ {t.rolledBack} rolled back</span>}
      </p>
      <p className="small" data-testid="current-targets">
        Currently processing:{' '}
        {shown.length ? (
          <strong>
            {shown.join(', ')}
            {t.currentTargets.length > shown.length && ` and ${t.currentTargets.length - shown.length} more`}
          </strong>
        ) : (
          <span className="muted">nothing</span>
        )}
      </p>
    </section>
  );
};
