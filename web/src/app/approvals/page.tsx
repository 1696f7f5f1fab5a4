'use client';
import { useCallback, useEffect, useState } from 'react';
import Link from 'next/link';
import { api } from '../../lib/api';
import { dateTime, roughly } from '../../lib/format';
import { formatEtaRange } from '@opsc/contracts';
import type { ControlAnswer, JobDetail, JobList, JobListItem } from '@opsc/contracts/api';
import { RiskBadge } from '../../components/badges';
import { atLeast, useSession } from '../../components/session';

/** One job waiting for approval: the plan to read, then approve or reject with a comment. */
const Review = ({ item, onDecided }: { item: JobListItem; onDecided: () => void }) => {
  const { user } = useSession();
  const [job, setJob] = useState<JobDetail | null>(null);
  const [loadError, setLoadError] = useState('');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    void api<JobDetail>(`/jobs/${item.id}`).then((res) =>
      res.ok ? setJob(res.data) : setLoadError(res.error.message),
    );
  }, [item.id]);

  const decide = async (action: 'approve' | 'reject') => {
    if (!job) return;
    setBusy(true);
    setResult(null);
    const body =
      action === 'approve'
        ? { planHash: job.planHash, ...(comment.trim() && { comment: comment.trim() }) }
        : { ...(comment.trim() && { comment: comment.trim() }) };
    const res = await api<ControlAnswer>(`/jobs/${item.id}/${action}`, { body });
    setBusy(false);
    if (res.ok) {
      setResult({ ok: true, text: action === 'approve' ? `Approved. The job is ${res.data.status}.` : 'Rejected.' });
      onDecided();
    } else {
      setResult({ ok: false, text: `Refused: ${res.error.message}` });
    }
  };

  const own = item.requestedBy === user?.username;
  return (
    <article className="panel approval" data-testid="approval" data-job={item.id}>
      <div className="row">
        <h2>
          <Link href={`/jobs/${item.id}`}>{item.name}</Link>
        </h2>
        <RiskBadge risk={item.risk} />
        <span className="spacer" />
        <span className="small muted">{dateTime(item.createdAt)}</span>
      </div>
      <dl className="facts">
        <dt>Requested by</dt>
        <dd data-testid="requester">{item.requestedBy}</dd>
        <dt>Targets</dt>
        <dd>
          {item.targets}
          {item.targetGroup && ` (group “${item.targetGroup}”)`}
          {job && job.targets.length > 0 && (
            <span className="muted small"> — {job.targets.map((t) => t.name).join(', ')}</span>
          )}
        </dd>
        <dt>Plan hash</dt>
        <dd className="mono small" data-testid="plan-hash">
          {job?.planHash ?? '…'}
        </dd>
        {job?.request && (
          <>
            <dt>Request</dt>
            <dd>“{job.request}”</dd>
          </>
        )}
        {job?.summary && (
          <>
            <dt>ETA</dt>
            <dd data-testid="approval-eta">
              {job.summary.eta ? (
                <>
                  {formatEtaRange(job.summary.eta.lowSeconds, job.summary.eta.highSeconds)}{' '}
                  <span className="muted small">
                    ({job.summary.eta.confidence} confidence: {job.summary.eta.reason})
                  </span>
                </>
              ) : (
                roughly(job.summary.etaSeconds)
              )}
            </dd>
            <dt>Why approval</dt>
            <dd>{job.summary.approvalReasons.join('; ')}</dd>
          </>
        )}
      </dl>
      {loadError && <p className="error-box">{loadError}</p>}
      {job && (
        <details open>
          <summary>
            Plan: {job.plan.steps.length} steps · rollback {job.plan.policies.rollback} ·{' '}
            {job.plan.policies.maxParallel} at once
            {job.plan.policies.continueOnFailure ? ' · continues past failures' : ' · stops at the first failure'}
          </summary>
          <ol className="small plan-steps">
            {job.plan.steps.map((s) => (
              <li key={s.id}>
                <strong>{s.name}</strong> <code className="muted">{s.tool?.name ?? s.action.method}</code>
                {s.tool && <span className={`badge risk-${s.tool.risk}`}>{s.tool.risk}</span>}
                {s.rollback && <span className="muted"> · undo: {s.rollback.name}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}
      {own && <p className="small warn-text">You requested this job; under four-eyes someone else must approve it.</p>}
      {!atLeast(user, 'approver') && (
        <p className="small warn-text">Approving needs the approver role; you are {user?.role}.</p>
      )}
      <label>
        Comment
        <textarea
          rows={2}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          placeholder="e.g. change window CHG-1234"
          data-testid="approval-comment"
        />
      </label>
      <div className="row actions">
        <button
          type="button"
          className="primary"
          disabled={busy || !job || result?.ok}
          onClick={() => void decide('approve')}
        >
          Approve
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy || !job || result?.ok}
          onClick={() => void decide('reject')}
        >
          Reject
        </button>
      </div>
      {result && (
        <p className={result.ok ? 'ok-box' : 'error-box'} role="alert" data-testid="approval-result">
          {result.text}
        </p>
      )}
    </article>
  );
};

/** The approvals inbox: every job of the tenant that waits for an approver. */
export default function ApprovalsPage() {
  const [items, setItems] = useState<JobListItem[] | null>(null);
  const [error, setError] = useState('');
  // A decided job leaves the list on the next refresh; its card stays, with the answer, until the page is left.
  const [decided, setDecided] = useState<JobListItem[]>([]);
  const refresh = useCallback(async () => {
    const res = await api<JobList>('/jobs?status=awaiting_approval&limit=100');
    if (res.ok) {
      setError('');
      setItems(res.data.jobs);
    } else setError(res.error.message);
  }, []);
  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 5_000);
    return () => clearInterval(t);
  }, [refresh]);
  const shown = [...(items ?? []), ...decided.filter((d) => !(items ?? []).some((i) => i.id === d.id))];
  return (
    <section aria-label="Approvals">
      <h1>Approvals</h1>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items !== null && shown.length === 0 && (
        <p className="note-box" data-testid="approvals-empty">
          Nothing waits for approval.
        </p>
      )}
      {shown.map((item) => (
        <Review key={item.id} item={item} onDecided={() => setDecided((d) => [...d, item])} />
      ))}
    </section>
  );
}
