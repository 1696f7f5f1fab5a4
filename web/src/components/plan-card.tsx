'use client';
import { useEffect, useId, useState } from 'react';
import { useRouter } from 'next/navigation';
import { NEEDS_INPUT, planAnswer, refusalAnswer, type PlanDraft } from '@opsc/contracts';
import type { JobCreated, PlanProposal, ToolSummary } from '@opsc/contracts/api';
import { api } from '../lib/api';
import { sharesTargets, targetedSteps } from '../lib/draft-edits';
import { shortHash } from '../lib/format';
import { placeIssues, type PlacedIssues } from '../lib/plan-issues';
import { usePlanCheck, type Validation } from '../lib/use-plan-check';
import { RiskBadge } from './badges';
import { FieldContext } from './plan-editor/fields';
import { PlanEditor } from './plan-editor/plan-editor';
import { SaveTemplate } from './templates/save-template';
import type { InventoryView } from './plan-editor/target-editor';

/** The "AI response" of the seed: what will happen, targets by OS, risk, ETA, and the question (parts from contracts' planAnswer, as the API's text). */
const Answer = ({ v, draft, stale }: { v: Validation; draft: PlanDraft | null; stale: boolean }) => {
  if (!v.summary) return null;
  const a = planAnswer(v.summary, draft);
  return (
    <div className={`answer${stale ? ' stale' : ''}`} data-testid="plan-answer" aria-busy={stale}>
      <p>{a.opening}</p>
      <ul className="checks">
        {a.checks.map((c, i) => (
          <li key={i}>{c}</li>
        ))}
      </ul>
      <dl className="facts">
        <dt>Targets</dt>
        <dd data-testid="plan-targets">{a.targets}</dd>
        <dt>Risk</dt>
        <dd>
          <RiskBadge risk={a.risk} />
        </dd>
        <dt>ETA</dt>
        <dd>
          <span data-testid="plan-eta">{a.eta}</span>
          {a.etaWhy && (
            <>
              {' '}
              <span className="muted small" data-testid="plan-eta-why">
                ({a.etaWhy})
              </span>
            </>
          )}
        </dd>
        <dt>Plan hash</dt>
        <dd className="mono" title={stale ? '' : (v.planHash ?? '')} data-testid="plan-hash">
          {stale ? 'checking the edited plan…' : shortHash(v.planHash)}
        </dd>
      </dl>
      {a.warnings.map((w, i) => (
        <p key={i} className="warn-text">
          ⚠ {w}
        </p>
      ))}
      {a.checkMode && <p data-testid="plan-check-mode">{a.checkMode}</p>}
      <p>{a.approval}</p>
      <p className="question">{a.question}</p>
    </div>
  );
};

/** What is wrong with the plan: how many issues sit on their fields, and the ones no field stands for, in words. */
const IssueSummary = ({ placed, status }: { placed: PlacedIssues; status: Validation['status'] }) => {
  const onFields = [...placed.byField.values()].reduce((n, list) => n + list.length, 0);
  if (status !== 'invalid' && !placed.general.length) return null;
  return (
    <div data-testid="plan-issues-summary">
      {status === 'invalid' && (
        <p>
          The plan does not validate
          {onFields > 0
            ? `: ${onFields} issue${onFields === 1 ? ' is' : 's are'} shown on ${onFields === 1 ? 'its field' : 'their fields'} in the plan below.`
            : '.'}
        </p>
      )}
      {placed.general.length > 0 && (
        <ul className="error-box" data-testid="plan-issues">
          {placed.general.map((g, i) => (
            <li key={`${g.path}-${i}`} data-path={g.path}>
              <strong>{g.words}</strong>: {g.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
};

const readiness = (v: Validation, checking: boolean): string =>
  checking
    ? 'Checking the edited plan…'
    : v.status === 'ready'
      ? ''
      : v.status === 'needs-input'
        ? 'Answer the questions in the plan first.'
        : 'Fix the issues in the plan first.';

/** A planner's answer in the conversation: the plan, editable, checked by the API after every edit, then run. */
export const PlanCard = ({
  proposal,
  tools,
  inventory,
}: {
  proposal: PlanProposal;
  tools: Map<string, ToolSummary>;
  inventory: InventoryView;
}) => {
  const router = useRouter();
  const prefix = `plan${useId().replace(/[^A-Za-z0-9_-]/g, '')}`;
  const { draft, v, issues, missing, checking, edited, failure, approval, edit, refused } = usePlanCheck(proposal);
  const [expanded, setExpanded] = useState(proposal.status === 'needs-input' || proposal.status === 'invalid');
  const [shared, setShared] = useState(() => (proposal.draft ? sharesTargets(proposal.draft, tools) : false));
  const [busy, setBusy] = useState(false);
  const refusal = refusalAnswer(proposal.refusal);

  // Issues sit on fields of the editor: open it when a check finds some.
  useEffect(() => {
    if (v.status === 'invalid' || v.status === 'needs-input') setExpanded(true);
  }, [v.status]);

  const placed = placeIssues(issues, draft ?? { name: '', steps: [], policies: {} as PlanDraft['policies'] }, {
    shared: new Set(shared && draft ? targetedSteps(draft, tools) : []),
  });
  const ready = v.status === 'ready' && !checking && !busy && Boolean(v.planHash);
  const notReady = readiness(v, checking);
  const readinessId = `${prefix}-readiness`;

  /** `check`: the plan's checks only (what it would change), with no approval. */
  const run = async (mode?: 'check') => {
    if (!draft || !v.planHash || !ready) return;
    setBusy(true);
    const res = await api<JobCreated>('/jobs', { body: { draft, expectPlanHash: v.planHash, ...(mode && { mode }) } });
    setBusy(false);
    if (res.ok) {
      router.push(`/jobs/${res.data.id}`);
      return;
    }
    refused(res.error.message, res.error.issues);
    // The plan changed under us (the inventory, the catalog): check it again, so the hash shown is current.
    if (res.error.type === 'Conflict') edit({ draft });
  };

  const message = failure
    ? { text: failure, className: 'error-box' }
    : checking
      ? { text: 'Checking the edited plan…', className: 'note-box' }
      : edited && v.status === 'ready'
        ? { text: 'The plan validates.', className: 'ok-box' }
        : null;

  return (
    <article className="msg ai" data-testid="plan-card" data-status={v.status} data-checking={checking}>
      <header className="row small muted">
        <span data-testid="planner">
          Planner: <strong>{proposal.planner}</strong>
        </span>
        {proposal.fallbackReason && <span title={proposal.fallbackReason}>(fell back: {proposal.fallbackReason})</span>}
      </header>
      {proposal.status === 'refused' ? (
        <div data-testid="refusal">
          <p>{refusal.message}</p>
          {refusal.closestTools && <p className="small muted">{refusal.closestTools}</p>}
        </div>
      ) : (
        <>
          {v.status === 'ready' && <Answer v={v} draft={draft} stale={checking} />}
          {v.status === 'needs-input' && (
            <div data-testid="needs-input">
              <p>{NEEDS_INPUT}</p>
              <ul>
                {v.missing.map((m) => (
                  <li key={m.path}>{m.question}</li>
                ))}
              </ul>
              <p className="small muted">Fill them in below; the plan is checked again as you type.</p>
            </div>
          )}
          <IssueSummary placed={placed} status={v.status} />
          <p className={message?.className ?? 'sr-only'} role="status" data-testid="plan-message">
            {message?.text ?? ''}
          </p>
          <div className="row actions">
            <button type="button" onClick={() => setExpanded(!expanded)} aria-expanded={expanded}>
              {expanded ? 'Hide plan' : 'Show plan'}
            </button>
            {ready && draft && <SaveTemplate draft={draft} />}
            <span className="spacer" />
            {notReady && (
              <span className="small muted" id={readinessId}>
                {notReady}
              </span>
            )}
            {v.summary && v.summary.risk !== 'read' && (
              <button
                type="button"
                onClick={() => void run('check')}
                disabled={!ready}
                aria-describedby={notReady ? readinessId : undefined}
                title="Reports what each step would change on each target; changes nothing, needs no approval"
                data-testid="run-check"
              >
                Run in check mode
              </button>
            )}
            <button
              type="button"
              className="primary"
              onClick={() => void run()}
              disabled={!ready}
              aria-describedby={notReady ? readinessId : undefined}
              data-testid="run-plan"
            >
              {busy ? 'Submitting…' : approval ? 'Request approval' : 'Run'}
            </button>
          </div>
          {expanded && draft && (
            <FieldContext.Provider value={{ prefix, errors: placed.byField }}>
              <PlanEditor
                draft={draft}
                plan={v.plan}
                tools={tools}
                inventory={inventory}
                missing={missing}
                shared={shared}
                onShared={setShared}
                onEdit={edit}
              />
            </FieldContext.Provider>
          )}
        </>
      )}
    </article>
  );
};
