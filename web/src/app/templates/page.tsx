'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { TemplateList, TemplateSummary } from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { dateTime } from '../../lib/format';
import { RiskBadge } from '../../components/badges';
import { DataTable } from '../../components/data-table';

/** The tenant's saved plans: each one's latest version, who may run it and whether its runs are pre-approved. */
export default function TemplatesPage() {
  const [templates, setTemplates] = useState<TemplateSummary[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    void api<TemplateList>('/templates').then((res) => {
      if (res.ok) setTemplates(res.data.templates);
      else setError(res.error.message);
    });
  }, []);
  return (
    <section aria-label="Templates">
      <h1>Templates</h1>
      <p className="muted small">
        Saved plans with parameters. Save one from a validated plan in the chat (“Save as template”); run it by filling
        its form. Every run is validated like any plan.
      </p>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      <DataTable
        rows={templates}
        failed={Boolean(error)}
        testId="templates-table"
        columns={['Name', 'Version', 'Risk', 'Run role', 'Approval', 'Saved by', 'Saved']}
        empty="No templates yet."
        row={(t) => (
          <tr key={t.id}>
            <td>
              <Link href={`/templates/${t.id}`}>{t.name}</Link>
              {t.description && <div className="muted small">{t.description}</div>}
            </td>
            <td>v{t.latestVersion}</td>
            <td>
              <RiskBadge risk={t.risk} />
            </td>
            <td>{t.runRole}</td>
            <td>{t.preApproved ? 'pre-approved' : t.approvalMode === 'required' ? 'every run' : 'when it changes'}</td>
            <td>{t.createdBy}</td>
            <td>{dateTime(t.createdAt)}</td>
          </tr>
        )}
      />
    </section>
  );
}
