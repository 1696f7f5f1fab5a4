'use client';
import { useEffect, useState, type FormEvent } from 'react';
import type { MappingSource, TemplateParam, TriggerMapping } from '@opsc/contracts';
import type { TemplateDetail, TemplateList, TemplateSummary, TriggerWithSecret } from '@opsc/contracts/api';
import { api, issuesByField } from '../../lib/api';

type How = 'default' | 'from' | 'value';
interface Row {
  how: How;
  text: string;
}

/** A constant as the parameter's type takes it: a number, a boolean, a list (comma-separated) or text. */
const constant = (p: TemplateParam, text: string): MappingSource => {
  if (p.type === 'integer' && /^-?\d+$/.test(text.trim())) return { value: Number(text) };
  if (p.type === 'boolean') return { value: text.trim() === 'true' };
  if (p.type === 'string-list' || p.type === 'target-list')
    return {
      value: text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
  return { value: text };
};

/** Create a trigger (admin): its template, its kind, and where each parameter comes from. */
export const TriggerForm = ({ onCreated }: { onCreated: (made: TriggerWithSecret) => void }) => {
  const [templates, setTemplates] = useState<TemplateSummary[]>([]);
  const [templateId, setTemplateId] = useState('');
  const [params, setParams] = useState<TemplateParam[]>([]);
  const [rows, setRows] = useState<Record<string, Row>>({});
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'generic' | 'alertmanager'>('generic');
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState('');

  useEffect(() => {
    void api<TemplateList>('/templates').then((res) => res.ok && setTemplates(res.data.templates));
  }, []);
  useEffect(() => {
    if (!templateId) return setParams([]);
    void api<TemplateDetail>(`/templates/${templateId}`).then((res) => {
      if (!res.ok) return setError(res.error.message);
      const latest = res.data.versions[0]?.parameters ?? [];
      setParams(latest);
      setRows(Object.fromEntries(latest.map((p) => [p.name, { how: 'default' as How, text: '' }])));
    });
  }, [templateId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const mapping: TriggerMapping = {};
    for (const p of params) {
      const row = rows[p.name];
      if (!row || row.how === 'default') continue;
      mapping[p.name] = row.how === 'from' ? { from: row.text.trim() } : constant(p, row.text);
    }
    const res = await api<TriggerWithSecret>('/triggers', { body: { name, templateId, kind, mapping } });
    if (!res.ok) {
      setErrors(issuesByField(res.error.issues));
      return setError(res.error.message);
    }
    setErrors(new Map());
    setError('');
    setName('');
    onCreated(res.data);
  };

  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Create a trigger" autoComplete="off" data-testid="trigger-form">
      <h2>New trigger</h2>
      {error && (
        <p className="error-box" role="alert">
          {error}
        </p>
      )}
      <div className="filters">
        <label>
          Trigger name
          <input value={name} onChange={(e) => setName(e.target.value)} aria-invalid={errors.has('name')} />
          {errors.get('name') && <span className="field-error">{errors.get('name')}</span>}
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
            <option value="generic">generic (HMAC-signed)</option>
            <option value="alertmanager">Prometheus Alertmanager</option>
          </select>
        </label>
        <label>
          Template
          <select value={templateId} onChange={(e) => setTemplateId(e.target.value)}>
            <option value="">choose…</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {params.length > 0 && (
        <table className="grid" data-testid="trigger-mapping">
          <thead>
            <tr>
              <th>Parameter</th>
              <th>Takes</th>
              <th>Payload path or value</th>
            </tr>
          </thead>
          <tbody>
            {params.map((p) => {
              const row = rows[p.name] ?? { how: 'default', text: '' };
              const set = (next: Partial<Row>) => setRows({ ...rows, [p.name]: { ...row, ...next } });
              const field = `mapping.${p.name}`;
              const problem = errors.get(field) ?? errors.get(`${field}.from`) ?? errors.get(`${field}.value`);
              return (
                <tr key={p.name}>
                  <td>
                    {p.name} <span className="muted small">({p.type})</span>
                  </td>
                  <td>
                    <select
                      aria-label={`${p.name} takes`}
                      value={row.how}
                      onChange={(e) => set({ how: e.target.value as How })}
                    >
                      <option value="default">the template&apos;s default</option>
                      <option value="from">a payload path</option>
                      <option value="value">a constant</option>
                    </select>
                  </td>
                  <td>
                    {row.how !== 'default' && (
                      <input
                        aria-label={`${p.name} source`}
                        value={row.text}
                        placeholder={row.how === 'from' ? '$.commonLabels.service' : String(p.default ?? '')}
                        onChange={(e) => set({ text: e.target.value })}
                        aria-invalid={Boolean(problem)}
                      />
                    )}
                    {problem && <span className="field-error">{problem}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <button type="submit" className="primary" disabled={!name || !templateId} data-testid="create-trigger">
        Create trigger
      </button>
    </form>
  );
};
