'use client';
import { createContext, useContext, useState, type ReactNode } from 'react';
import { splitList } from '../../lib/draft-edits';

/** What every field of one card's editor needs: a prefix that keeps its ids unique on the page, and the issues by field key. */
export interface FieldState {
  prefix: string;
  errors: ReadonlyMap<string, readonly string[]>;
}
export const FieldContext = createContext<FieldState>({ prefix: 'plan', errors: new Map() });

/**
 * A field's ids and the attributes of its control: the validator's messages for `key` are tied to
 * the control with aria-describedby and aria-invalid; `ownFindings` (what the editor itself sees,
 * such as a name not in the inventory) are shown while the validator has said nothing on the field.
 */
export const useField = (key: string, ownFindings: readonly string[] = [], hint?: string) => {
  const { prefix, errors } = useContext(FieldContext);
  const said = errors.get(key) ?? [];
  const messages = said.length ? said : ownFindings;
  const id = `${prefix}-${key}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [messages.length ? errorId : '', hint ? hintId : ''].filter(Boolean).join(' ');
  return {
    id,
    errorId,
    hintId,
    messages,
    control: {
      id,
      name: key,
      'data-field': key,
      'aria-invalid': messages.length > 0,
      'aria-describedby': describedBy || undefined,
    },
  };
};

export const FieldError = ({ id, field, messages }: { id: string; field: string; messages: readonly string[] }) =>
  messages.length ? (
    <p className="field-error" id={id} data-error-for={field}>
      {messages.join('; ')}
    </p>
  ) : null;

/** Under a parameter's control: the planner's question while the validator is silent, then its message. */
export const FieldFoot = ({
  f,
  field,
  question,
}: {
  f: ReturnType<typeof useField>;
  field: string;
  question?: string | undefined;
}) => (
  <>
    {question && !f.messages.length && (
      <p className="small warn-text" id={f.hintId}>
        {question}
      </p>
    )}
    <FieldError id={f.errorId} field={field} messages={f.messages} />
  </>
);

/**
 * A comma list as the operator types it: the text is kept as typed (a trailing comma, a space)
 * while the names it holds go to the draft; a change from outside resets it.
 */
export const ListInput = ({
  value,
  onValue,
  placeholder,
  control,
}: {
  value: readonly string[];
  onValue: (names: string[]) => void;
  placeholder?: string;
  control: ReturnType<typeof useField>['control'];
}) => {
  const [text, setText] = useState(() => value.join(', '));
  if (splitList(text).join('\n') !== value.join('\n')) setText(value.join(', '));
  return (
    <input
      type="text"
      {...control}
      placeholder={placeholder ?? 'comma-separated'}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onValue(splitList(e.target.value));
      }}
    />
  );
};

const numberOrRaw = (raw: string): unknown =>
  raw.trim() === '' ? undefined : Number.isFinite(Number(raw)) ? Number(raw) : raw;

export type ParamType = 'string' | 'integer' | 'boolean' | 'string-list' | 'script';

/** One labelled control for a tool parameter, a per-step limit or a policy, typed as the catalog says. */
export const ParamInput = ({
  field,
  label,
  value,
  type,
  enumValues,
  question,
  placeholder,
  onValue,
  typeHint,
}: {
  field: string;
  label: ReactNode;
  value: unknown;
  type: ParamType;
  enumValues?: readonly string[] | undefined;
  question?: string | undefined;
  placeholder?: string | undefined;
  onValue: (v: unknown) => void;
  /** Shown beside the label: the parameter's type. */
  typeHint?: string | undefined;
}) => {
  const f = useField(field);
  // The planner's question until the validator says something on the field; then its message.
  const ask = question && !f.messages.length;
  const c = { ...f.control, 'aria-describedby': ask ? f.hintId : f.control['aria-describedby'] };
  let input: ReactNode;
  if (type === 'boolean')
    input = <input type="checkbox" {...c} checked={value === true} onChange={(e) => onValue(e.target.checked)} />;
  else if (enumValues?.length)
    input = (
      <select
        {...c}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onValue(e.target.value || undefined)}
      >
        <option value="">—</option>
        {enumValues.map((v) => (
          <option key={v}>{v}</option>
        ))}
      </select>
    );
  else if (type === 'integer')
    input = (
      <input
        type="text"
        inputMode="numeric"
        {...c}
        placeholder={placeholder}
        value={value === undefined ? '' : String(value)}
        onChange={(e) => onValue(numberOrRaw(e.target.value))}
      />
    );
  else if (type === 'string-list')
    input = (
      <ListInput
        control={c}
        placeholder={placeholder}
        value={Array.isArray(value) ? value.map(String) : []}
        onValue={(names) => onValue(names.length ? names : undefined)}
      />
    );
  else if (type === 'script')
    input = (
      <textarea
        rows={3}
        {...c}
        placeholder={placeholder}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onValue(e.target.value === '' ? undefined : e.target.value)}
      />
    );
  else
    input = (
      <input
        type="text"
        {...c}
        placeholder={placeholder}
        value={value === undefined || value === null ? '' : String(value)}
        onChange={(e) => onValue(e.target.value === '' ? undefined : e.target.value)}
      />
    );
  return (
    <div className={`param${question ? ' needed' : ''}`}>
      <label htmlFor={f.id}>
        <span>
          {label} {typeHint && <span className="muted small">{typeHint}</span>}
        </span>
      </label>
      {input}
      <FieldFoot f={f} field={field} question={question} />
    </div>
  );
};
