'use client';
import { useEffect, useState } from 'react';
import type { ScheduleOverlap, TemplateParam } from '@opsc/contracts';
import type { ScheduleView, TemplateDetail, TemplateList, TemplateSummary } from '@opsc/contracts/api';
import { api, issuesByField } from '../../lib/api';
import { RunForm } from '../templates/run-form';

const OVERLAPS: { value: ScheduleOverlap; label: string }[] = [
  { value: 'skip', label: 'skip (while the last job runs)' },
  { value: 'buffer_one', label: 'buffer one' },
  { value: 'buffer_all', label: 'buffer all' },
  { value: 'allow_all', label: 'allow all' },
  { value: 'cancel_other', label: 'cancel the last job' },
  { value: 'terminate_other', label: 'stop waiting for the last job' },
];

const FieldError = ({ errors, field }: { errors: Map<string, string>; field: string }) => {
  const message = [...errors].find(([k]) => k === field || k.startsWith(`${field}.`))?.[1];
  return message ? (
    <span className="field-error" data-testid={`error-${field}`}>
      {message}
    </span>
  ) : null;
};

/**
 * Create a schedule, or change one (admin): the template and its parameters (the template's own run
 * form), the timing (cron expressions, one a line, or an interval), the time zone, the overlap
 * policy and the catch-up window. The API's field errors show next to their field.
 */
export const ScheduleForm = ({
  existing,
  onSaved,
}: {
  existing?: ScheduleView;
  onSaved: (s: ScheduleView) => void;
}) => {
  const [templates, setTemplates] = useState<TemplateSummary[]>([]);
  const [templateId, setTemplateId] = useState(existing?.template.id ?? '');
  const [params, setParams] = useState<TemplateParam[] | null>(null);
  const [name, setName] = useState(existing?.name ?? '');
  const [cron, setCron] = useState(existing?.cronExpressions.join('\n') ?? '');
  const [interval, setEvery] = useState(existing?.intervalSeconds ? String(existing.intervalSeconds) : '');
  const [timeZone, setTimeZone] = useState(
    existing?.timeZone ?? (typeof Intl !== 'undefined' ? Intl.DateTimeFormat().resolvedOptions().timeZone : 'UTC'),
  );
  const [overlap, setOverlap] = useState<ScheduleOverlap>(existing?.overlap ?? 'skip');
  const [catchup, setCatchup] = useState(String(existing?.catchupWindowSeconds ?? 300));
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void api<TemplateList>('/templates').then((res) => res.ok && setTemplates(res.data.templates));
  }, []);
  useEffect(() => {
    if (!templateId) return setParams(null);
    void api<TemplateDetail>(`/templates/${templateId}`).then((res) => {
      if (!res.ok) return setError(res.error.message);
      const version = existing?.templateVersion
        ? res.data.versions.find((v) => v.version === existing.templateVersion)
        : res.data.versions[0];
      setParams(version?.parameters ?? []);
    });
  }, [templateId, existing?.templateVersion]);

  const save = async (values: Record<string, unknown>) => {
    setBusy(true);
    const timing = {
      cronExpressions: cron
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean),
      intervalSeconds: interval.trim() ? Number(interval) : null,
      timeZone: timeZone.trim(),
      overlap,
      catchupWindowSeconds: Number(catchup),
      params: values,
    };
    const res = existing
      ? await api<ScheduleView>(`/schedules/${existing.id}`, { method: 'PATCH', body: { name, ...timing } })
      : await api<ScheduleView>('/schedules', { body: { name, templateId, ...timing } });
    setBusy(false);
    if (!res.ok) {
      setErrors(issuesByField(res.error.issues));
      return setError(res.error.message);
    }
    setErrors(new Map());
    setError('');
    onSaved(res.data);
  };

  return (
    <section aria-label={existing ? `Change ${existing.name}` : 'Create a schedule'} data-testid="schedule-form">
      <h2>{existing ? `Change ${existing.name}` : 'New schedule'}</h2>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      <div className="filters">
        <label>
          Schedule name
          <input value={name} onChange={(e) => setName(e.target.value)} aria-invalid={errors.has('name')} />
          <FieldError errors={errors} field="name" />
        </label>
        <label>
          Template
          <select value={templateId} disabled={Boolean(existing)} onChange={(e) => setTemplateId(e.target.value)}>
            <option value="">choose…</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
          <FieldError errors={errors} field="templateId" />
        </label>
        <label>
          Cron expressions (one a line)
          <textarea
            rows={2}
            value={cron}
            placeholder="0 3 * * mon-fri"
            onChange={(e) => setCron(e.target.value)}
            aria-invalid={errors.has('cronExpressions')}
          />
          <FieldError errors={errors} field="cronExpressions" />
        </label>
        <label>
          Or every (seconds)
          <input
            type="number"
            min={1}
            value={interval}
            onChange={(e) => setEvery(e.target.value)}
            aria-invalid={errors.has('intervalSeconds')}
          />
          <FieldError errors={errors} field="intervalSeconds" />
        </label>
        <label>
          Time zone
          <input value={timeZone} onChange={(e) => setTimeZone(e.target.value)} aria-invalid={errors.has('timeZone')} />
          <FieldError errors={errors} field="timeZone" />
        </label>
        <label>
          When the last job still runs
          <select value={overlap} onChange={(e) => setOverlap(e.target.value as ScheduleOverlap)}>
            {OVERLAPS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Catch-up window (seconds)
          <input type="number" min={10} value={catchup} onChange={(e) => setCatchup(e.target.value)} />
          <FieldError errors={errors} field="catchupWindowSeconds" />
        </label>
      </div>
      <FieldError errors={errors} field="ownerId" />
      {params && (
        <RunForm
          key={templateId}
          parameters={params}
          errors={errors}
          busy={busy}
          values={existing?.params}
          submitLabel={existing ? 'Save schedule' : 'Create schedule'}
          onRun={(values) => void save(values)}
        />
      )}
    </section>
  );
};
