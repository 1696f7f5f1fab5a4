import type { JobProgress } from '@opsc/contracts';
import { duration } from '../../lib/format';
import { StepFacts } from './step-facts';

const ICON: Record<string, string> = { succeeded: '✓', failed: '✗', running: '▶', pending: '○', skipped: '–' };
const WORD: Record<string, string> = {
  succeeded: 'Complete',
  failed: 'Failed',
  running: 'In progress',
  pending: 'Pending',
  skipped: 'Skipped',
};

/** The seed's "Step-by-Step Visual Progress": each step with its status and counts. */
export const StepList = ({ progress }: { progress: JobProgress }) => (
  <section className="panel" aria-label="Steps">
    <h3>Steps</h3>
    <ol className="step-list" data-testid="step-list">
      {progress.steps.map((s) => {
        const t = s.targets;
        const took =
          s.startedAt && s.finishedAt
            ? duration((new Date(s.finishedAt).getTime() - new Date(s.startedAt).getTime()) / 1000)
            : null;
        return (
          <li key={s.id} className={`step-${s.status}`} data-step={s.id} data-status={s.status}>
            <span className={`icon s-${s.status}`} aria-hidden>
              {ICON[s.status] ?? '?'}
            </span>
            <strong>{s.name}</strong> <span className={`s-${s.status}`}>{WORD[s.status] ?? s.status}</span>{' '}
            <span className="muted small">
              ({t.completed}/{t.total} complete{t.failed ? `, ${t.failed} failed` : ''}
              {t.running ? `, ${t.running} running` : ''}
              {t.pending ? `, ${t.pending} pending` : ''}
              {t.skipped ? `, ${t.skipped} skipped` : ''}
              {t.rolledBack ? `, ${t.rolledBack} rolled back` : ''}
              {t.doneBefore ? `, ${t.doneBefore} done in an earlier job` : ''}){took && ` · ${took}`}
            </span>
            <StepFacts step={s} />
          </li>
        );
      })}
    </ol>
  </section>
);
