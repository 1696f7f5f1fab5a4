'use client';
import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { NEEDS_INPUT, planAnswer, refusalAnswer, type PlanDraft } from '@opsc/contracts';
import type { JobCreated, PlanProposal, PlanValidation, ToolSummary } from '@opsc/contracts/api';
import { api, issuesByField } from '../lib/api';
import { shortHash } from '../lib/format';
import { RiskBadge } from './badges';
import { PlanEditor } from './plan-editor';

/** What the validator answers for an edited plan (`POST /api/plans { plan }`). */
type Validation = Omit<PlanValidation, 'status'> & { status: PlanProposal['status'] };

/** The "AI response" of the seed: what will happen, targets by OS, risk, ETA, and the question (parts from contracts' planAnswer, as the API's text). */
const Answer = ({ v, draft }: { v: Validation; draft: PlanDraft | null }) => {
  if (!v.summary) return null;
  const a = planAnswer(v.summary, draft);
  return (
    <div className="answer" data-testid="plan-answer">
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
        <dd data-testid="plan-eta">{a.eta}</dd>
        <dt>Plan hash</dt>
        <dd className="mono" title={v.planHash ?? ''}>
          {shortHash(v.planHash)}
        </dd>
      </dl>
      {a.warnings.map((w, i) => (
        <p key={i} className="warn-text">
          ⚠ {w}
        </p>
      ))}
      <p>{a.approval}</p>
      <p className="question">{a.question}</p>
    </div>
  );
};

/** A planner's answer in the conversation: the plan, editable, re-validated by the API, then run. */
export const PlanCard = ({ proposal, tools }: { proposal: PlanProposal; tools: Map<string, ToolSummary> }) => {
  const router = useRouter();
  const [v, setV] = useState<Validation>(proposal);
  const [draft, setDraft] = useState<PlanDraft | null>(proposal.draft);
  const [expanded, setExpanded] = useState(proposal.status === 'needs-input');
  const [dirty, setDirty] = useState(false);
  const [errors, setErrors] = useState<Map<string, string>>(issuesByField(proposal.issues));
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState<'check' | 'run' | null>(null);

  const missing = new Map(v.missing.map((m) => [m.path, m.question]));
  const refusal = refusalAnswer(proposal.refusal);
  const edit = (next: PlanDraft) => {
    setDraft(next);
    setDirty(true);
  };

  const check = async () => {
    if (!draft) return;
    setBusy('check');
    setMessage('');
    const res = await api<Validation>('/plans', { body: { plan: draft } });
    setBusy(null);
    if (res.ok) {
      setV(res.data);
      if (res.data.draft) setDraft(res.data.draft);
      setErrors(issuesByField(res.data.issues));
      setDirty(false);
      setMessage(res.data.status === 'ready' ? 'The plan validates.' : '');
      return;
    }
    const byField = issuesByField(res.error.issues);
    setErrors(byField);
    setMessage(`${res.error.message}${byField.size ? ' — see the fields marked below' : ''}`);
    setExpanded(true);
  };

  const run = async () => {
    if (!draft || !v.planHash) return;
    setBusy('run');
    setMessage('');
    const res = await api<JobCreated>('/jobs', { body: { draft, expectPlanHash: v.planHash } });
    setBusy(null);
    if (res.ok) {
      router.push(`/jobs/${res.data.id}`);
      return;
    }
    setErrors(issuesByField(res.error.issues));
    setMessage(res.error.message);
  };

  const unplaced = [...errors.entries()].filter(
    ([path]) => !/^steps\.\d+\.(params\.|timeoutSeconds|retries|tool|targets)|^steps\.\d+$|^policies\./.test(path),
  );
  return (
    <article className="msg ai" data-testid="plan-card" data-status={v.status}>
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
          {v.status === 'ready' && <Answer v={v} draft={draft} />}
          {v.status === 'needs-input' && (
            <div data-testid="needs-input">
              <p>{NEEDS_INPUT}</p>
              <ul>
                {v.missing.map((m) => (
                  <li key={m.path}>{m.question}</li>
                ))}
              </ul>
              <p className="small muted">Fill them in below, then check the plan.</p>
            </div>
          )}
          {v.status === 'invalid' && <p>The plan does not validate; the fields at fault are marked below.</p>}
          {message && (
            <p
              className={errors.size || v.status === 'invalid' ? 'error-box' : 'ok-box'}
              role="status"
              data-testid="plan-message"
            >
              {message}
            </p>
          )}
          {unplaced.length > 0 && (
            <ul className="error-box" data-testid="plan-issues">
              {unplaced.map(([path, text]) => (
                <li key={path}>
                  <code>{path}</code>: {text}
                </li>
              ))}
            </ul>
          )}
          <div className="row actions">
            <button type="button" onClick={() => setExpanded(!expanded)} aria-expanded={expanded}>
              {expanded ? 'Hide plan' : 'Show plan'}
            </button>
            {dirty && (
              <button type="button" onClick={() => void check()} disabled={busy !== null}>
                {busy === 'check' ? 'Checking…' : 'Check edited plan'}
              </button>
            )}
            <span className="spacer" />
            {v.status === 'ready' && (
              <button
                type="button"
                className="primary"
                onClick={() => void run()}
                disabled={dirty || busy !== null}
                title={dirty ? 'Check the edited plan first' : undefined}
              >
                {busy === 'run' ? 'Submitting…' : v.summary?.approvalRequired ? 'Request approval' : 'Run'}
              </button>
            )}
          </div>
          {dirty && <p className="small warn-text">Edited: check the plan again before it can run.</p>}
          {expanded && draft && (
            <PlanEditor draft={draft} plan={v.plan} tools={tools} errors={errors} missing={missing} onChange={edit} />
          )}
        </>
      )}
    </article>
  );
};
