'use client';
import { useState, type FormEvent } from 'react';
import type { TemplateParam } from '@opsc/contracts';

/** A form value as typed: text for most, a boolean for a checkbox; lists are one item a line. */
type Typed = string | boolean;

const initial = (p: TemplateParam, given?: unknown): Typed => {
  const v = given ?? p.default;
  if (p.type === 'boolean') return v === true;
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join('\n') : String(v);
};

/** The value the API takes: a number stays text (the API checks and converts it), a list is split by line. */
const toValue = (p: TemplateParam, v: Typed): unknown => {
  if (typeof v === 'boolean') return v;
  if (p.type === 'string-list' || p.type === 'target-list')
    return v
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  return v;
};

/** An HTML pattern from the parameter's patterns (all must match): a lookahead each. */
const htmlPattern = (p: TemplateParam): string | undefined => {
  const list = (p.patterns ?? []).map((re) => re.replace(/^\^/, '').replace(/\$$/, ''));
  if (list.length === 0 || p.type !== 'string') return undefined;
  return list.length === 1 ? list[0] : list.map((re) => `(?=(?:${re})$)`).join('') + '.*';
};

/**
 * The run form of a template version, rendered from its parameters' schema: an enum is a select, an
 * integer a number with its bounds, a pattern an input with it, defaults filled; the API's field
 * errors (`params.<name>`) show next to their field.
 */
export const RunForm = ({
  parameters,
  errors,
  busy,
  onRun,
  values: given,
  submitLabel = 'Run',
}: {
  parameters: readonly TemplateParam[];
  errors: Map<string, string>;
  busy: boolean;
  onRun: (params: Record<string, unknown>) => void;
  /** Values to start from instead of the defaults (a saved schedule's). */
  values?: Record<string, unknown>;
  /** What the button says (a schedule's form saves rather than runs). */
  submitLabel?: string;
}) => {
  const [values, setValues] = useState<Record<string, Typed>>(() =>
    Object.fromEntries(parameters.map((p) => [p.name, initial(p, given?.[p.name])])),
  );
  const set = (name: string, v: Typed) => setValues((old) => ({ ...old, [name]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onRun(
      Object.fromEntries(
        parameters.filter((p) => values[p.name] !== '').map((p) => [p.name, toValue(p, values[p.name] ?? '')]),
      ),
    );
  };

  return (
    <form onSubmit={submit} aria-label="Run the template" data-testid="template-run-form" noValidate>
      {parameters.length === 0 && <p className="muted small">This template takes no parameters.</p>}
      {parameters.map((p) => {
        const id = `param-${p.name}`;
        const error = errors.get(`params.${p.name}`);
        const common = {
          id,
          name: p.name,
          'aria-invalid': Boolean(error),
          'aria-describedby': error ? `${id}-error` : undefined,
          required: p.required,
        };
        const value = values[p.name];
        return (
          <div className="field" key={p.name}>
            <label htmlFor={id}>
              {p.name}
              {p.required && ' *'} <span className="muted small">{p.description}</span>
            </label>
            {p.type === 'boolean' ? (
              <input
                {...common}
                type="checkbox"
                checked={value === true}
                onChange={(e) => set(p.name, e.target.checked)}
              />
            ) : p.enum ? (
              <select {...common} value={String(value)} onChange={(e) => set(p.name, e.target.value)}>
                {!p.required && <option value="">(default)</option>}
                {p.enum.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            ) : p.type === 'integer' ? (
              <input
                {...common}
                type="number"
                step={1}
                min={p.min}
                max={p.max}
                value={String(value)}
                onChange={(e) => set(p.name, e.target.value)}
              />
            ) : p.type === 'string-list' || p.type === 'target-list' ? (
              <textarea
                {...common}
                rows={3}
                placeholder="one a line"
                value={String(value)}
                onChange={(e) => set(p.name, e.target.value)}
              />
            ) : (
              <input
                {...common}
                type="text"
                pattern={htmlPattern(p)}
                maxLength={p.maxLength}
                value={String(value)}
                onChange={(e) => set(p.name, e.target.value)}
              />
            )}
            {error && (
              <span className="field-error" id={`${id}-error`} data-testid={`${id}-error`}>
                {error}
              </span>
            )}
          </div>
        );
      })}
      <button type="submit" className="primary" disabled={busy} data-testid="run-template">
        {busy ? 'Submitting…' : submitLabel}
      </button>
    </form>
  );
};
