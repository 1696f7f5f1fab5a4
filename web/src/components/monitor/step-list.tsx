import type { JobProgress, Plan, StepProgress } from '@opsc/contracts';
import { duration } from '../../lib/format';
import { stepPhases } from '../../lib/step-phases';
import { StepFacts } from './step-facts';

const ICON: Record<string, string> = { succeeded: '✓', failed: '✗', running: '▶', pending: '○', skipped: '–' };
const WORD: Record<string, string> = {
  succeeded: 'Complete',
  failed: 'Failed',
  running: 'In progress',
  pending: 'Pending',
  skipped: 'Skipped',
};

const counts = (t: StepProgress['targets']) =>
  `${t.completed}/${t.total} complete${t.failed ? `, ${t.failed} failed` : ''}${t.running ? `, ${t.running} running` : ''}${
    t.pending ? `, ${t.pending} pending` : ''
  }${t.skipped ? `, ${t.skipped} skipped` : ''}${t.rolledBack ? `, ${t.rolledBack} rolled back` : ''}${
    t.doneBefore ? `, ${t.doneBefore} done in an earlier job` : ''
  }`;

/**
 * The seed's "Step-by-Step Visual Progress": each step of the plan with its status and counts. A
 * mixed group's OS variants of one step run at the same time: one entry, counts added up, each
 * variant's own counts beneath it.
 */
export const StepList = ({ progress, plan }: { progress: JobProgress; plan?: Plan }) => (
  <section className="panel" aria-label="Steps">
    <h3>Steps</h3>
    <ol className="step-list" data-testid="step-list">
      {stepPhases(progress, plan).map((s) => {
        const took =
          s.startedAt && s.finishedAt
            ? duration((new Date(s.finishedAt).getTime() - new Date(s.startedAt).getTime()) / 1000)
            : null;
        return (
          <li
            key={s.id}
            className={`step-${s.status}`}
            data-step={s.id}
            data-status={s.status}
            data-total={s.targets.total}
            data-completed={s.targets.completed}
          >
            <span className={`icon s-${s.status}`} aria-hidden>
              {ICON[s.status] ?? '?'}
            </span>
            <strong className="step-name">{s.name}</strong>{' '}
            <span className={`s-${s.status}`}>{WORD[s.status] ?? s.status}</span>{' '}
            <span className="muted small">
              ({counts(s.targets)}){took && ` · ${took}`}
            </span>
            {s.indexes.map((i) => progress.steps[i] && <StepFacts key={i} step={progress.steps[i]} />)}
            {s.variants.length > 1 && (
              <ul className="step-variants small muted" data-testid="step-variants">
                {s.variants.map((v) => (
                  <li key={v.id} data-variant={v.id} data-os={v.os}>
                    {v.os === 'linux' ? 'Linux' : v.os === 'windows' ? 'Windows' : v.os}: {counts(v.targets)}
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ol>
  </section>
);
