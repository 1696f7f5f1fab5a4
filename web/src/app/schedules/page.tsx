'use client';
import { useCallback, useEffect, useState } from 'react';
import Link from 'next/link';
import type { ScheduleList, ScheduleView } from '@opsc/contracts/api';
import { api } from '../../lib/api';
import { dateTime } from '../../lib/format';
import { DataTable } from '../../components/data-table';
import { atLeast, useSession } from '../../components/session';
import { ScheduleForm } from '../../components/schedules/schedule-form';

const timing = (s: ScheduleView): string =>
  [...s.cronExpressions, ...(s.intervalSeconds ? [`every ${s.intervalSeconds} s`] : [])].join(', ') +
  ` (${s.timeZone})`;

/** A schedule's next run times and latest actions, each with its job or why none started. */
const Details = ({ schedule }: { schedule: ScheduleView }) => (
  <section aria-label={`Runs of ${schedule.name}`} data-testid="schedule-details">
    <h2>{schedule.name}</h2>
    <p className="muted small">
      Temporal schedule <code>{schedule.temporal.scheduleId}</code>
      {schedule.temporal.state === 'unreachable' && ' (Temporal did not answer: next runs unknown)'} · runs as{' '}
      {schedule.owner.username}
      {schedule.owner.disabled && ' (disabled: its actions are refused)'} · overlap {schedule.overlap} · catch-up{' '}
      {schedule.catchupWindowSeconds} s
    </p>
    <h3>Next runs</h3>
    {schedule.paused ? (
      <p data-testid="next-runs">Paused{schedule.note ? `: ${schedule.note}` : ''}</p>
    ) : (
      <ol data-testid="next-runs">
        {schedule.nextRuns.map((t) => (
          <li key={t}>{dateTime(t)}</li>
        ))}
      </ol>
    )}
    <h3>Latest actions</h3>
    <DataTable
      rows={schedule.recentRuns}
      testId="schedule-runs"
      columns={['Scheduled', 'Outcome', 'Job', 'Reason']}
      empty="No actions yet."
      row={(r) => (
        <tr key={r.actionId} data-outcome={r.outcome}>
          <td>{dateTime(r.scheduledAt ?? r.startedAt)}</td>
          <td>{r.outcome}</td>
          <td>{r.jobId ? <Link href={`/jobs/${r.jobId}`}>{r.jobId}</Link> : '—'}</td>
          <td>{r.reason ?? ''}</td>
        </tr>
      )}
    />
  </section>
);

/** Templates run on a Temporal Schedule: the list with each one's next run, pause and resume, a new one, a change. */
export default function SchedulesPage() {
  const { user } = useSession();
  const admin = atLeast(user, 'admin');
  const [schedules, setSchedules] = useState<ScheduleView[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [editing, setEditing] = useState<ScheduleView | null>(null);
  // A new form (empty again) after each save.
  const [saved, setSaved] = useState(0);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    const res = await api<ScheduleList>('/schedules');
    if (res.ok) setSchedules(res.data.schedules);
    else setError(res.error.message);
  }, []);
  useEffect(() => {
    void load();
    if (window.location.hash) setSelected(decodeURIComponent(window.location.hash.slice(1)));
    // Next runs and new actions come with time: read again every few seconds while the page is shown.
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, 4_000);
    return () => window.clearInterval(timer);
  }, [load]);
  const act = async (s: ScheduleView, path: string, method = 'POST') => {
    if (method === 'DELETE' && !window.confirm(`Delete the schedule ${s.name}?`)) return;
    const res = await api(`/schedules/${s.id}${path}`, { method, ...(method === 'POST' && { body: {} }) });
    if (!res.ok) setError(res.error.message);
    else setError('');
    await load();
  };
  const shown = schedules?.find((s) => s.id === selected);

  return (
    <section aria-label="Schedules">
      <h1>
        Schedules{' '}
        <button type="button" onClick={() => void load()} data-testid="refresh-schedules">
          Refresh
        </button>
      </h1>
      <p className="muted small">
        Templates run on a Temporal Schedule, as the schedule&apos;s owner (their role at each run); the template&apos;s
        approval rules apply. Jobs started this way show the schedule as their origin.
      </p>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      <DataTable
        rows={schedules}
        failed={Boolean(error) && !schedules}
        testId="schedules-table"
        columns={['Name', 'Template', 'When', 'Next run', 'State', '']}
        empty="No schedules yet."
        row={(s) => (
          <tr key={s.id} data-testid={`schedule-${s.name}`} data-paused={s.paused}>
            <td>
              <button type="button" className="link" onClick={() => setSelected(s.id)}>
                {s.name}
              </button>
            </td>
            <td>
              <Link href={`/templates/${s.template.id}`}>{s.template.name}</Link>
              {s.templateVersion ? ` v${s.templateVersion}` : ' (latest)'}
            </td>
            <td className="mono small">{timing(s)}</td>
            <td>{s.nextRuns[0] ? dateTime(s.nextRuns[0]) : '—'}</td>
            <td>{s.paused ? `paused${s.note ? `: ${s.note}` : ''}` : 'active'}</td>
            <td>
              {admin && (
                <>
                  <button type="button" onClick={() => void act(s, s.paused ? '/resume' : '/pause')}>
                    {s.paused ? 'Resume' : 'Pause'}
                  </button>{' '}
                  <button type="button" disabled={s.paused} onClick={() => void act(s, '/trigger')}>
                    Run now
                  </button>{' '}
                  <button type="button" onClick={() => setEditing(s)}>
                    Change
                  </button>{' '}
                  <button type="button" onClick={() => void act(s, '', 'DELETE')}>
                    Delete
                  </button>
                </>
              )}
            </td>
          </tr>
        )}
      />
      {shown && <Details key={shown.id} schedule={shown} />}
      {admin && (
        <ScheduleForm
          key={editing ? `${editing.id}-${saved}` : `new-${saved}`}
          {...(editing && { existing: editing })}
          onSaved={(s) => {
            setEditing(null);
            setSaved((n) => n + 1);
            setSelected(s.id);
            void load();
          }}
        />
      )}
    </section>
  );
}
