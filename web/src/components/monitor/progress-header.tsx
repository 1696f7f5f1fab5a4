import type { JobProgress } from '@opsc/contracts';
import { clock, duration } from '../../lib/format';
import { Eta } from './eta';

const pct = (n: number, total: number) => (total > 0 ? `${(100 * n) / total}%` : '0%');

/** The seed's "LIVE PROGRESS MONITOR": step bar, step name, target bar with counts, who is running, times. */
export const ProgressHeader = ({ progress, now }: { progress: JobProgress; now: number }) => {
  const t = progress.targetProgress;
  const stepsDone = progress.steps.filter(
    (s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped',
  ).length;
  // Targets whose executor pool has gone quiet are not running: they wait for an executor of it.
  const waiting = progress.waiting ?? [];
  const waitingNames = new Set(waiting.flatMap((w) => w.targets));
  const processing = t.currentTargets.filter((name) => !waitingNames.has(name));
  const running = Math.max(0, t.running - waitingNames.size);
  const shown = processing.slice(0, 6);
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
          <Eta progress={progress} now={now} />
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
        <span className="seg seg-run" style={{ width: pct(running, t.total) }} />
      </div>
      <p
        className="counts"
        data-testid="target-counts"
        data-completed={t.completed}
        data-failed={t.failed}
        data-pending={t.pending}
        data-running={running}
        data-waiting={waitingNames.size}
        data-total={t.total}
      >
        <span className="ok-text">✓ {t.completed} Completed</span>
        <span className="fail-text">✗ {t.failed} Failed</span>
        <span className="run-text">▶ {running} Running</span>
        {waitingNames.size > 0 && <span className="warn-text">‖ {waitingNames.size} Waiting</span>}
        <span className="muted">○ {t.pending} Pending</span>
        {t.rolledBack > 0 && <span className="muted">↺ {t.rolledBack} rolled back</span>}
      </p>
      <p className="small" data-testid="current-targets">
        Currently processing:{' '}
        {shown.length ? (
          <strong>
            {shown.join(', ')}
            {processing.length > shown.length && ` and ${processing.length - shown.length} more`}
          </strong>
        ) : (
          <span className="muted">nothing</span>
        )}
      </p>
      {waiting.map((w) => (
        <p key={w.pool} className="small warn-text" role="status" data-testid="pool-waiting" data-pool={w.pool}>
          Waiting for an executor of pool <strong>{w.pool}</strong>: {w.targets.slice(0, 6).join(', ')}
          {w.targets.length > 6 && ` and ${w.targets.length - 6} more`}. No executor of that pool is polling; start one
          with EXECUTOR_POOL={w.pool}.
        </p>
      ))}
    </section>
  );
};
