import {
  CHECK_VERDICT_TEXT,
  cellStatus,
  checkVerdictOfCode,
  describeTransfer,
  type JobProgress,
} from '@opsc/contracts';
import type { OutputLine } from '@opsc/contracts/api';
import { latestTransfers } from '../../lib/transfers';

const TITLE: Record<string, string> = {
  pending: 'pending',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
  rolledBack: 'rolled back',
  rollbackFailed: 'undo failed',
  cancelled: 'cancelled',
  doneBefore: 'done in an earlier job',
  notInStep: 'not in this step',
};
const GLYPH: Record<string, string> = {
  pending: '',
  running: '▶',
  succeeded: '✓',
  failed: '✗',
  skipped: '–',
  rolledBack: '↺',
  rollbackFailed: '!',
  cancelled: '⊘',
  doneBefore: '✓',
  notInStep: '',
};
/** Check mode: what the step's check found (the cell's own state shows while it runs, or when it failed). */
const CHECK_GLYPH: Record<string, string> = { 'would-change': '≠', 'no-change': '=', 'would-run': '?' };

/** Per target x per step: one cell each, coloured by state; a cell opens that target's output. */
export const TargetGrid = ({
  progress,
  onOpen,
  selected,
  doneIn,
  lines = [],
}: {
  progress: JobProgress;
  /** Live output: a running target's copy shows its bytes so far. */
  lines?: readonly OutputLine[];
  onOpen: (target: string, stepId: string) => void;
  selected: string | null;
  /** A retry job: the job a step it does not run again on a target was done in. */
  doneIn?: (target: string, stepId: string) => string | undefined;
}) => {
  // Running targets whose executor pool has gone quiet: they wait, nothing runs them.
  const waitingPool = new Map((progress.waiting ?? []).flatMap((w) => w.targets.map((t) => [t, w.pool] as const)));
  // The latest transfer report of each target that is copying now (its bytes not all sent).
  const copying = new Map(
    latestTransfers(lines).flatMap((t) => (t.sent < t.total ? [[t.line.target, t] as const] : [])),
  );
  return (
    <section className="panel" aria-label="Targets by step">
      <h3>Targets × steps</h3>
      {progress.mode === 'check' && (
        <p className="small muted" data-testid="check-legend">
          Check mode: nothing was changed. ≠ would change · = no change · ? would run (cannot be known before it runs)
        </p>
      )}
      <div className="table-wrap grid-wrap">
        <table className="grid cells" data-testid="target-grid">
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">State</th>
              {progress.steps.map((s, i) => (
                <th key={s.id} scope="col" title={s.name} className="cell-head">
                  {i + 1}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {progress.targets.map((target, ti) => (
              <tr key={target} data-target={target} className={selected === target ? 'selected' : ''}>
                <th scope="row" className="mono">
                  <button type="button" className="link" onClick={() => onOpen(target, progress.steps[0]?.id ?? '')}>
                    {target}
                  </button>
                </th>
                <td>
                  {waitingPool.has(target) ? (
                    <span
                      className="badge s-paused"
                      data-testid="target-state"
                      data-waiting-pool={waitingPool.get(target)}
                      title={`no executor of pool ${waitingPool.get(target)} is polling: its actions wait for one`}
                    >
                      waiting for an executor of pool {waitingPool.get(target)}
                    </span>
                  ) : (
                    <span className={`badge s-${progress.targetStates[ti] ?? 'pending'}`} data-testid="target-state">
                      {(progress.targetStates[ti] ?? 'pending').replace('_', ' ')}
                    </span>
                  )}
                  {progress.targetStates[ti] === 'running' && copying.has(target) && (
                    <span className="small muted transfer" data-testid="target-transfer">
                      {' '}
                      {describeTransfer(copying.get(target)!)}
                    </span>
                  )}
                </td>
                {progress.steps.map((s, si) => {
                  const state = cellStatus(progress.matrix[si]?.[ti] ?? ' ');
                  const earlier = state === 'doneBefore' ? doneIn?.(target, s.id) : undefined;
                  const check = state === 'succeeded' ? checkVerdictOfCode(progress.checks?.[si]?.[ti]) : null;
                  const label = earlier ? `done in job ${earlier}` : check ? CHECK_VERDICT_TEXT[check] : TITLE[state];
                  return (
                    <td key={s.id} className="cell-td">
                      <button
                        type="button"
                        className={`cell cell-${check ? `check-${check}` : state}`}
                        data-cell={state}
                        {...(check && { 'data-check': check })}
                        title={`${target} · ${s.name}: ${label}`}
                        aria-label={`${target}, ${s.name}: ${label}`}
                        onClick={() => onOpen(target, s.id)}
                      >
                        {check ? CHECK_GLYPH[check] : GLYPH[state]}
                      </button>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
};
