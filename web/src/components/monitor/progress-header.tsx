import { isFinalJobStatus, type JobProgress, type Plan } from '@opsc/contracts';
import { clock, duration } from '../../lib/format';
import { currentPhase, runningIn, stepPhases } from '../../lib/step-phases';
import { Eta } from './eta';

const pct = (n: number, total: number) => (total > 0 ? `${(100 * n) / total}%` : '0%');
const seconds = (from: string | null | undefined, to: string | null | undefined) =>
  from && to ? (new Date(to).getTime() - new Date(from).getTime()) / 1000 : null;

/** The job's own record: when it was submitted, when its run started and ended (the jobs list's figures). */
export interface JobTimes {
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * When the run started: the record's time once it has it; before, the approval's time (the run
 * starts when it is approved), or the submission's when no approval was needed.
 */
const runStartOf = (progress: JobProgress, times: JobTimes): string | null => {
  if (times.startedAt) return times.startedAt;
  const a = progress.approval;
  if (a.required) return a.status === 'approved' ? (a.decidedAt ?? null) : null;
  return progress.currentStep > 0 ? progress.startedAt : null;
};

/**
 * The seed's "LIVE PROGRESS MONITOR": times, step bar ("Step 3 of 7", a mixed group's OS variants
 * counted as the one step they are), the current step's targets with their counts, who is running,
 * and the whole job's outcome (a small line while it runs, the main counts once it is over).
 */
export const ProgressHeader = ({
  progress,
  now,
  times,
  plan,
  status = progress.status,
}: {
  progress: JobProgress;
  now: number;
  times: JobTimes;
  plan?: Plan;
  /** The job's status as the page shows it (a final record wins over a stale snapshot). */
  status?: string;
}) => {
  const job = progress.targetProgress;
  const final = isFinalJobStatus(status);
  const phases = stepPhases(progress, plan);
  const at = currentPhase(phases, progress);
  const phase = phases[at];
  const stepsDone = phases.filter(
    (s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped',
  ).length;
  // Targets whose executor pool has gone quiet are not running: they wait for an executor of it.
  const waiting = progress.waiting ?? [];
  const waitingNames = new Set(waiting.flatMap((w) => w.targets));
  const processing = (final ? [] : runningIn(phase, progress)).filter((name) => !waitingNames.has(name));
  const shown = processing.slice(0, 6);
  // While the job runs, the counts are the current step's (as the seed counts); once it is over, the job's outcome.
  const step = phase?.targets;
  const scope = final || !step ? 'job' : 'step';
  const c =
    scope === 'job' || !step
      ? { ...job, skipped: 0, waiting: waitingNames.size }
      : { ...step, waiting: runningIn(phase, progress).filter((n) => waitingNames.has(n)).length };
  const running = Math.max(0, c.running - c.waiting);
  const runStart = runStartOf(progress, times);
  const finishedAt = final ? (times.finishedAt ?? progress.finishedAt) : null;
  const took =
    times.startedAt && times.finishedAt ? seconds(times.startedAt, times.finishedAt) : seconds(runStart, finishedAt);
  const approval = progress.approval;
  return (
    <section className="panel progress-head" aria-label="Progress">
      <div className="times row small">
        <span>
          Submitted:{' '}
          <time data-testid="submitted-at" dateTime={times.createdAt}>
            {clock(times.createdAt)}
          </time>
        </span>
        {approval.required && (
          <span data-testid="approved-at" data-at={approval.decidedAt ?? ''}>
            {approval.status === 'pending'
              ? 'Awaiting approval'
              : `${approval.status === 'approved' ? 'Approved' : approval.status === 'timed_out' ? 'Approval timed out' : 'Rejected'}: ${clock(approval.decidedAt)}`}
          </span>
        )}
        <span>
          Started:{' '}
          <strong data-testid="started-at" data-at={runStart ?? ''}>
            {runStart ? clock(runStart) : final ? 'never' : 'not yet'}
          </strong>
        </span>
        {finishedAt ? (
          <span>
            Finished: <strong data-testid="finished-at">{clock(finishedAt)}</strong>
            {took !== null && (
              <>
                {' '}
                (took{' '}
                <strong data-testid="took" data-seconds={took}>
                  {duration(took)}
                </strong>
                )
              </>
            )}
          </span>
        ) : (
          <Eta progress={progress} now={now} />
        )}
        {!final && progress.paused && <span className="badge s-paused">paused: nothing new starts</span>}
        {!final && progress.cancelRequested && (
          <span className="badge s-cancelled" data-testid="cancel-requested">
            cancelling
          </span>
        )}
      </div>

      <div className="bar-label row">
        <span>Step progress</span>
        <span className="spacer" />
        <strong data-testid="step-of">
          Step {progress.currentStep > 0 ? at + 1 : 0} of {phases.length}
        </strong>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label="Steps"
        aria-valuemin={0}
        aria-valuemax={phases.length}
        aria-valuenow={stepsDone}
      >
        <span className="seg seg-step" style={{ width: pct(stepsDone, phases.length) }} />
      </div>
      <p className="current-step">
        {final ? 'Last step' : 'Current step'}:{' '}
        <strong data-testid="step-name">{progress.currentStep > 0 ? (phase?.name ?? '—') : '—'}</strong>
        {phase && phase.variants.length > 1 && (
          <span className="muted small" data-testid="step-variants-note">
            {' '}
            ({phase.variants.map((v) => v.os).join(' and ')} at the same time)
          </span>
        )}
      </p>

      <div className="bar-label row">
        <span>{scope === 'job' ? 'Job outcome' : 'Target progress (this step)'}</span>
        <span className="spacer" />
        <strong data-testid="target-fraction">
          {c.completed + c.failed}/{c.total} targets
        </strong>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label="Targets"
        aria-valuemin={0}
        aria-valuemax={c.total}
        aria-valuenow={c.completed + c.failed}
      >
        <span className="seg seg-ok" style={{ width: pct(c.completed, c.total) }} />
        <span className="seg seg-fail" style={{ width: pct(c.failed, c.total) }} />
        <span className="seg seg-run" style={{ width: pct(running, c.total) }} />
      </div>
      <p
        className="counts"
        data-testid="target-counts"
        data-scope={scope}
        data-completed={c.completed}
        data-failed={c.failed}
        data-pending={c.pending}
        data-running={running}
        data-waiting={c.waiting}
        data-skipped={c.skipped}
        data-total={c.total}
      >
        <span className="ok-text">✓ {c.completed} Completed</span>
        <span className="fail-text">✗ {c.failed} Failed</span>
        <span className="run-text">▶ {running} Running</span>
        {c.waiting > 0 && <span className="warn-text">‖ {c.waiting} Waiting</span>}
        <span className="muted">○ {c.pending} Pending</span>
        {c.skipped > 0 && <span className="muted">– {c.skipped} Skipped</span>}
        {c.rolledBack > 0 && <span className="muted">↺ {c.rolledBack} rolled back</span>}
      </p>
      {scope === 'step' && (
        <p
          className="small muted"
          data-testid="job-counts"
          data-completed={job.completed}
          data-failed={job.failed}
          data-total={job.total}
        >
          Whole job: {job.completed} of {job.total} targets through all their steps
          {job.failed > 0 && `, ${job.failed} failed`}
          {job.rolledBack > 0 && `, ${job.rolledBack} rolled back`}
        </p>
      )}
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
