import { cellStatus, describeTransfer, type JobProgress } from '@opsc/contracts';
import { dateTime, duration } from '../../lib/format';
import { latestTransfers } from '../../lib/transfers';
import type { OutputLine, StepResultView } from '@opsc/contracts/api';
import { StatusBadge } from '../badges';

const Stream = ({
  name,
  text,
  truncated,
  bytes,
}: {
  name: string;
  text: string | null;
  truncated: boolean | null;
  bytes: number | null;
}) =>
  text ? (
    <div>
      <div className="small muted">
        {name}
        {bytes !== null && ` · ${bytes} bytes`}
        {truncated && ' · cut at the store cap'}
      </div>
      <pre className="output" data-testid={`output-${name}`}>
        {text}
      </pre>
    </div>
  ) : null;

/** Why a step has no result on a target, from its cell. */
const NO_RESULT: Record<string, string> = {
  pending: 'not started yet',
  running: 'running…',
  skipped: 'skipped: the target failed an earlier step, or the job stopped',
  cancelled: 'cancelled',
  notInStep: 'not part of this step',
};

/** One target's full output, step by step (and its undo actions), from the stored results. */
export const TargetOutput = ({
  target,
  stepId,
  progress,
  results,
  error,
  lines,
  loading,
  onClose,
}: {
  target: string;
  stepId: string;
  progress: JobProgress;
  results: StepResultView[];
  error: string;
  lines: OutputLine[];
  loading: boolean;
  onClose: () => void;
}) => {
  const mine = results.filter((r) => r.target.name === target);
  const ti = progress.targets.indexOf(target);
  return (
    <aside className="panel target-output" aria-label={`Output of ${target}`} data-testid="target-output">
      <div className="row">
        <h2 className="mono">{target}</h2>
        <StatusBadge status={progress.targetStates[ti] ?? 'pending'} />
        {loading && <span className="muted small">loading…</span>}
        {error && (
          <span className="error-box small" role="alert" data-testid="output-error">
            The stored output could not be read: {error}
          </span>
        )}
        <span className="spacer" />
        <button type="button" onClick={onClose} aria-label="Close output">
          Close
        </button>
      </div>
      {progress.steps.map((s, si) => {
        const cell = cellStatus(progress.matrix[si]?.[ti] ?? ' ');
        const rows = mine.filter((r) => r.stepId === s.id || r.stepId === `${s.id}.rollback`);
        const live = lines.filter((l) => l.target === target && l.stepId === s.id);
        return (
          <details key={s.id} open={s.id === stepId} className="step-output" data-step={s.id}>
            <summary>
              <strong>{s.name}</strong>{' '}
              {rows.length ? (
                // The executor stores a run's output before the job records its verdict: until then the grid's cell says how it went.
                rows.map((r) => (
                  <StatusBadge key={r.stepId} status={r.status ?? (r.stepId === s.id ? cell : 'pending')} />
                ))
              ) : (
                <span className="muted small">{NO_RESULT[cell] ?? 'no result yet'}</span>
              )}
            </summary>
            {rows.map((r) => (
              <div key={r.stepId} className="result">
                <p className="small muted">
                  {r.stepId.endsWith('.rollback') ? 'Undo action · ' : ''}
                  {r.rerun > 0 ? `retry ${r.rerun} · ` : ''}
                  attempt {r.attempt ?? '—'} · {r.method ?? '—'} · exit code {r.exitCode ?? '—'}
                  {r.signal && ` · signal ${r.signal}`}
                  {r.httpStatus !== null && ` · HTTP ${r.httpStatus}`} · {dateTime(r.startedAt)}
                  {r.startedAt &&
                    r.finishedAt &&
                    ` · ${duration((new Date(r.finishedAt).getTime() - new Date(r.startedAt).getTime()) / 1000)}`}
                </p>
                {r.error && (
                  <p className="error-box" data-testid="result-error">
                    {r.error.type}: {r.error.message}
                  </p>
                )}
                {r.facts && Object.keys(r.facts).length > 0 && (
                  <p className="small mono">
                    {Object.entries(r.facts)
                      .map(([k, v]) => `${k}=${v}`)
                      .join('  ')}
                  </p>
                )}
                <Stream name="stdout" text={r.stdout} truncated={r.stdoutTruncated} bytes={r.stdoutBytes} />
                <Stream name="stderr" text={r.stderr} truncated={r.stderrTruncated} bytes={r.stderrBytes} />
                {!r.stdout && !r.stderr && !r.error && <p className="muted small">No output.</p>}
              </div>
            ))}
            {rows.length === 0 && live.length > 0 && (
              <pre className="output">
                {live
                  .filter((l) => l.stream !== 'progress')
                  .map((l) => l.line)
                  .join('\n')}
              </pre>
            )}
            {rows.length === 0 &&
              latestTransfers(live).map((t) => (
                <p key={`${t.line.attempt}-${t.line.rerun ?? 0}`} className="small" data-testid="output-transfer">
                  {describeTransfer(t)}
                </p>
              ))}
          </details>
        );
      })}
    </aside>
  );
};
