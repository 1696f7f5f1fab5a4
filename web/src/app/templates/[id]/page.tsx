'use client';
import { useCallback, useEffect, useState } from 'react';
import { useParams, useRouter } from 'next/navigation';
import type { TemplateDetail, TemplateRun } from '@opsc/contracts/api';
import { api, issuesByField } from '../../../lib/api';
import { dateTime, shortHash } from '../../../lib/format';
import { RiskBadge } from '../../../components/badges';
import { atLeast, useSession } from '../../../components/session';
import { RunForm } from '../../../components/templates/run-form';

/** One template: its versions and their pre-approvals, the run form of the latest, and pre-approval for approvers. */
export default function TemplatePage() {
  const { id } = useParams<{ id: string }>();
  const router = useRouter();
  const { user } = useSession();
  const [t, setT] = useState<TemplateDetail | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    const res = await api<TemplateDetail>(`/templates/${encodeURIComponent(id)}`);
    if (res.ok) setT(res.data);
    else setMessage({ ok: false, text: res.error.message });
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);

  if (!t) return message ? <p className="error-box">{message.text}</p> : <p className="muted">Loading…</p>;
  const latest = t.versions[0];

  const run = async (params: Record<string, unknown>) => {
    setBusy(true);
    const res = await api<TemplateRun>(`/templates/${t.id}/run`, { body: { params } });
    setBusy(false);
    if (res.ok) {
      router.push(`/jobs/${res.data.job.id}`);
      return;
    }
    setErrors(issuesByField(res.error.issues));
    setMessage({ ok: false, text: res.error.message });
  };
  const preApprove = async () => {
    if (!latest) return;
    const res = await api<TemplateDetail>(`/templates/${t.id}/pre-approve`, {
      body: { version: latest.version, shapeHash: latest.shapeHash },
    });
    if (res.ok) setT(res.data);
    setMessage(
      res.ok
        ? { ok: true, text: `Version ${latest.version} is pre-approved.` }
        : { ok: false, text: res.error.message },
    );
  };

  return (
    <section aria-label={`Template ${t.name}`}>
      <h1 data-testid="template-name">{t.name}</h1>
      {t.description && <p>{t.description}</p>}
      <dl className="facts">
        <dt>Risk</dt>
        <dd>
          <RiskBadge risk={t.risk} />
        </dd>
        <dt>Run role</dt>
        <dd>{t.runRole}</dd>
        <dt>Approval</dt>
        <dd data-testid="template-approval">
          {t.preApproved
            ? `pre-approved (v${t.latestVersion})`
            : t.approvalMode === 'required'
              ? 'every run waits for a person'
              : 'a run that changes something waits for a person'}
        </dd>
      </dl>
      {message && (
        <p
          className={message.ok ? 'ok-box' : 'error-box'}
          role={message.ok ? 'status' : 'alert'}
          data-testid="template-message"
        >
          {message.text}
        </p>
      )}
      {latest && atLeast(user, latest.runRole) && (
        <>
          <h2>Run version {latest.version}</h2>
          <RunForm parameters={latest.parameters} errors={errors} busy={busy} onRun={(p) => void run(p)} />
        </>
      )}
      {latest && !t.preApproved && atLeast(user, 'approver') && (
        <p>
          <button type="button" onClick={() => void preApprove()} data-testid="pre-approve">
            Pre-approve version {latest.version} (shape {shortHash(latest.shapeHash)})
          </button>
        </p>
      )}
      <h2>Versions</h2>
      <ul data-testid="template-versions">
        {t.versions.map((v) => (
          <li key={v.version}>
            <strong>v{v.version}</strong> by {v.createdBy}, {dateTime(v.createdAt)}, shape{' '}
            <span className="mono">{shortHash(v.shapeHash)}</span>, parameters:{' '}
            {v.parameters.map((p) => `${p.name} (${p.type})`).join(', ') || 'none'}
            <ul>
              {v.preApprovals.map((a) => (
                <li key={a.id} className="small">
                  pre-approved by {a.by} {dateTime(a.at)}
                  {a.voidedAt ? ` — voided ${dateTime(a.voidedAt)}: ${a.voidReason ?? ''}` : ' — holds'}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}
