'use client';
import { useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { JobDetail, RetryCreated } from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { atLeast, useSession } from '../session';

const JobLink = ({ id, testId }: { id: string; testId?: string }) => (
  <Link href={`/jobs/${encodeURIComponent(id)}`} data-testid={testId}>
    <code>{id}</code>
  </Link>
);

/**
 * A job's links to its retries ("retry of …", "retried as …") and, on a finished job some of whose
 * targets did not get through, "Retry failed targets (N)": which targets, from which step; the new
 * job opens once created.
 */
export const RetryPanel = ({ job }: { job: JobDetail }) => {
  const { user } = useSession();
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const { retry } = job;
  const retryNow = async () => {
    setBusy(true);
    setError('');
    const res = await api<RetryCreated>(`/jobs/${encodeURIComponent(job.id)}/retry`, { body: {} });
    setBusy(false);
    if (!res.ok) {
      setError(res.error.message);
      return;
    }
    router.push(`/jobs/${encodeURIComponent(res.data.id)}`);
  };
  const canRetry = retry.available.length > 0 && atLeast(user, 'operator');
  if (!retry.retryOf && retry.retriedAs.length === 0 && !canRetry) return null;
  return (
    <section className="panel" aria-label="Retries" data-testid="retry-panel">
      {retry.retryOf && (
        <p className="small" data-testid="retry-of">
          Retry of <JobLink id={retry.retryOf} testId="retry-of-link" />
          {retry.rootJobId && retry.rootJobId !== retry.retryOf && (
            <>
              {' '}
              (first run <JobLink id={retry.rootJobId} />)
            </>
          )}
          : each target started where it had stopped; steps marked ✓ in a darker green were done in an earlier job.
        </p>
      )}
      {retry.retriedAs.length > 0 && (
        <p className="small" data-testid="retried-as">
          Retried as{' '}
          {retry.retriedAs.map((r, i) => (
            <span key={r.id}>
              {i > 0 && ', '}
              <JobLink id={r.id} testId="retried-as-link" /> ({r.status.replace('_', ' ')})
            </span>
          ))}
        </p>
      )}
      {canRetry && (
        <>
          <ul className="small" data-testid="retry-targets">
            {retry.available.map((t) => (
              <li key={t.target} data-target={t.target}>
                <strong>{t.target}</strong> from step {t.stepNumber} ({t.stepName})
                {t.rolledBack
                  ? ' — its changes were undone, so it starts again'
                  : Object.keys(t.carried).length > 0 &&
                    ` — steps before stand from ${[...new Set(Object.values(t.carried))].join(', ')}`}
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => void retryNow()} disabled={busy} data-testid="retry-button">
            Retry failed targets ({retry.available.length})
          </button>
        </>
      )}
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
    </section>
  );
};
