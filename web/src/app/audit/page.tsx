'use client';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import Link from 'next/link';
import { api } from '../../lib/api';
import { dateTime } from '../../lib/format';
import { atLeast, useSession } from '../../components/session';
import { DataTable } from '../../components/data-table';
import type { AuditEntry, AuditPage as AuditAnswer } from '@opsc/contracts/api';

/** The tenant's append-only audit trail, newest first (admins). */
export default function AuditPage() {
  const { user } = useSession();
  const [filters, setFilters] = useState({ actor: '', action: '', jobId: '' });
  const [applied, setApplied] = useState(filters);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const admin = atLeast(user, 'admin');

  const load = useCallback(
    async (before?: string) => {
      const q = new URLSearchParams(Object.entries(applied).filter(([, v]) => v));
      q.set('limit', '100');
      if (before) q.set('before', before);
      const res = await api<AuditAnswer>(`/audit?${q}`);
      if (!res.ok) {
        setError(res.error.issues?.map((i) => `${i.path}: ${i.message}`).join('; ') || res.error.message);
        return;
      }
      setError('');
      setEntries((old) => (before ? [...(old ?? []), ...res.data.entries] : res.data.entries));
      setNext(res.data.next);
    },
    [applied],
  );
  useEffect(() => {
    if (admin) void load();
  }, [load, admin]);

  if (!admin) return <p className="note-box">The audit log is for admins; you are {user?.role}.</p>;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ ...filters });
  };
  return (
    <section aria-label="Audit log">
      <h1>Audit log</h1>
      <form className="filters" onSubmit={submit}>
        <label>
          Actor
          <input
            value={filters.actor}
            onChange={(e) => setFilters({ ...filters, actor: e.target.value })}
            name="actor"
          />
        </label>
        <label>
          Action (or prefix ending in “.”)
          <input
            value={filters.action}
            onChange={(e) => setFilters({ ...filters, action: e.target.value })}
            name="action"
            placeholder="job. / auth.login"
          />
        </label>
        <label>
          Job id
          <input
            value={filters.jobId}
            onChange={(e) => setFilters({ ...filters, jobId: e.target.value })}
            name="jobId"
            size={40}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      <DataTable
        rows={entries}
        failed={Boolean(error)}
        columns={['When', 'Actor', 'Action', 'Object', 'Job', 'Source', 'Details']}
        testId="audit-table"
        empty="No entries match."
        row={(e) => (
          <tr key={e.id} data-action={e.action} data-id={e.id}>
            <td className="small">{dateTime(e.at)}</td>
            <td>{e.actor}</td>
            <td>
              <code>{e.action}</code>
            </td>
            <td className="small">{e.objectType ? `${e.objectType} ${e.objectId ?? ''}` : '—'}</td>
            <td className="small">{e.jobId ? <Link href={`/jobs/${e.jobId}`}>{e.jobId.slice(0, 12)}…</Link> : '—'}</td>
            <td className="small mono">{e.sourceIp ?? '—'}</td>
            <td className="small mono">{e.details ? JSON.stringify(e.details) : ''}</td>
          </tr>
        )}
      />
      {next && (
        <p>
          <button type="button" onClick={() => void load(next)}>
            Older entries
          </button>
        </p>
      )}
    </section>
  );
}
