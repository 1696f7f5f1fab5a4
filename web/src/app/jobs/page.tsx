'use client';
import { Suspense, useCallback, useEffect, useState, type FormEvent } from 'react';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { JobStatus } from '@opsc/contracts';
import { api } from '../../lib/api';
import { dateTime, duration } from '../../lib/format';
import type { JobCreated, JobDetail, JobList, JobListItem } from '@opsc/contracts/api';
import { RiskBadge, StatusBadge } from '../../components/badges';
import { atLeast, useSession } from '../../components/session';
import { DataTable } from '../../components/data-table';

const STATUSES = JobStatus.options;
const FILTERS = ['status', 'requester', 'group', 'since', 'until', 'q'] as const;

const Outcome = ({ job }: { job: JobListItem }) => {
  const t = job.outcome?.targets;
  if (!t) return <span className="muted">—</span>;
  return (
    <span className="small" data-testid="outcome">
      <span className="ok-text">{t.completed ?? 0} ok</span>
      {(t.failed ?? 0) > 0 && <span className="fail-text"> · {t.failed} failed</span>}
      {(t.rolledBack ?? 0) > 0 && <span className="muted"> · {t.rolledBack} rolled back</span>}
      {(t.rollbackFailed ?? 0) > 0 && <span className="fail-text"> · {t.rollbackFailed} undo failed</span>}
    </span>
  );
};

const History = () => {
  const { user } = useSession();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const [jobs, setJobs] = useState<JobListItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [form, setForm] = useState<Record<string, string>>(() =>
    Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])),
  );

  const query = useCallback(
    (before?: string) => {
      const q = new URLSearchParams();
      for (const f of FILTERS) {
        const v = params.get(f);
        if (!v) continue;
        // Dates from the form are days; the API takes instants.
        q.set(f, f === 'since' || f === 'until' ? new Date(`${v}T00:00:00`).toISOString() : v);
      }
      q.set('limit', '50');
      if (before) q.set('before', before);
      return q.toString();
    },
    [params],
  );

  const load = useCallback(
    async (before?: string) => {
      const res = await api<JobList>(`/jobs?${query(before)}`);
      if (!res.ok) {
        setError(res.error.issues?.map((i) => `${i.path}: ${i.message}`).join('; ') || res.error.message);
        return;
      }
      setError('');
      setJobs((old) => (before ? [...(old ?? []), ...res.data.jobs] : res.data.jobs));
      setNext(res.data.next?.before ?? null);
    },
    [query],
  );
  useEffect(() => {
    void load();
  }, [load]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries(form).filter(([, v]) => v));
    router.push(`${pathname}${q.size ? `?${q}` : ''}`);
  };
  const rerun = async (id: string) => {
    setNote('');
    const job = await api<JobDetail>(`/jobs/${id}`);
    if (!job.ok) return setNote(job.error.message);
    const created = await api<JobCreated>('/jobs', { body: { plan: job.data.plan } });
    if (!created.ok) return setNote(`Re-run refused: ${created.error.message}`);
    router.push(`/jobs/${created.data.id}`);
  };

  return (
    <section aria-label="Jobs">
      <h1>Jobs</h1>
      <form className="filters" onSubmit={apply} aria-label="Filters">
        <label>
          Status
          <select value={form.status} onChange={(e) => setForm({ ...form, status: e.target.value })} name="status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Requester
          <input
            value={form.requester}
            onChange={(e) => setForm({ ...form, requester: e.target.value })}
            name="requester"
            size={12}
          />
        </label>
        <label>
          Group
          <input
            value={form.group}
            onChange={(e) => setForm({ ...form, group: e.target.value })}
            name="group"
            size={14}
          />
        </label>
        <label>
          From
          <input
            type="date"
            value={form.since}
            onChange={(e) => setForm({ ...form, since: e.target.value })}
            name="since"
          />
        </label>
        <label>
          Before
          <input
            type="date"
            value={form.until}
            onChange={(e) => setForm({ ...form, until: e.target.value })}
            name="until"
          />
        </label>
        <label>
          Name contains
          <input value={form.q} onChange={(e) => setForm({ ...form, q: e.target.value })} name="q" size={16} />
        </label>
        <button type="submit">Filter</button>
        <button
          type="button"
          onClick={() => {
            setForm(Object.fromEntries(FILTERS.map((f) => [f, ''])));
            router.push(pathname);
          }}
        >
          Clear
        </button>
      </form>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      {note && (
        <p className="error-box" role="alert">
          {note}
        </p>
      )}
      <DataTable
        rows={jobs}
        failed={Boolean(error)}
        columns={['Job', 'Status', 'Risk', 'Requester', 'Group', 'Targets', 'Created', 'Duration', 'Outcome', '']}
        testId="jobs-table"
        empty="No jobs match."
        emptyTestId="jobs-empty"
        row={(j) => (
          <tr key={j.id} data-job={j.id}>
            <td>
              <Link href={`/jobs/${j.id}`}>{j.name}</Link>
              {j.mode === 'check' && (
                <span className="small muted" data-testid="job-mode">
                  {' '}
                  (check mode)
                </span>
              )}
            </td>
            <td>
              <StatusBadge status={j.status} />
            </td>
            <td>
              <RiskBadge risk={j.risk} />
            </td>
            <td>{j.requestedBy}</td>
            <td>{j.targetGroup ?? '—'}</td>
            <td>{j.targets}</td>
            <td className="small">{dateTime(j.createdAt)}</td>
            <td>{duration(j.durationSeconds)}</td>
            <td>
              <Outcome job={j} />
            </td>
            <td>
              {atLeast(user, 'operator') && (
                <button
                  type="button"
                  onClick={() => void rerun(j.id)}
                  title="Submit the same plan again (approval rules apply again)"
                >
                  Re-run
                </button>
              )}
            </td>
          </tr>
        )}
      />
      {next && (
        <p>
          <button type="button" onClick={() => void load(next)}>
            Older jobs
          </button>
        </p>
      )}
    </section>
  );
};

export default function JobsPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <History />
    </Suspense>
  );
}
