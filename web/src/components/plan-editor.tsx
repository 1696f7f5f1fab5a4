'use client';
import type { Plan, PlanDraft, RolloutPolicies } from '@opsc/contracts';
import type { ToolSummary } from '@opsc/contracts/api';

/** Field path -> error text, as `issuesByField` makes it; `missing` are the inputs the planner asked for. */
interface EditorProps {
  draft: PlanDraft;
  plan: Plan | null;
  tools: Map<string, ToolSummary>;
  errors: Map<string, string>;
  missing: Map<string, string>;
  onChange: (draft: PlanDraft) => void;
}

const POLICY_FIELDS: {
  key: keyof RolloutPolicies;
  label: string;
  kind: 'int' | 'number' | 'bool' | readonly string[];
}[] = [
  { key: 'maxParallel', label: 'Targets at once', kind: 'int' },
  { key: 'continueOnFailure', label: 'Continue when a target fails', kind: 'bool' },
  { key: 'maxFailPercentage', label: 'Stop above % failed', kind: 'number' },
  { key: 'onFailThreshold', label: 'Then', kind: ['abort', 'ask'] },
  { key: 'rollback', label: 'Roll back', kind: ['none', 'target', 'all'] },
  { key: 'timeoutSeconds', label: 'Step timeout (s)', kind: 'int' },
  { key: 'retries', label: 'Attempts', kind: 'int' },
  { key: 'approval', label: 'Approval', kind: ['auto', 'required'] },
];

const numberOrRaw = (raw: string): unknown =>
  raw.trim() === '' ? undefined : Number.isFinite(Number(raw)) ? Number(raw) : raw;

const FieldError = ({ id, text }: { id: string; text: string | undefined }) =>
  text ? (
    <p className="field-error" id={id} role="alert">
      {text}
    </p>
  ) : null;

/** One input for a tool parameter, typed by the catalog (a string when the catalog does not say). */
const ParamInput = ({
  path,
  name,
  value,
  type,
  enumValues,
  error,
  question,
  onValue,
  showType = true,
}: {
  path: string;
  name: string;
  value: unknown;
  type: string;
  enumValues?: readonly string[] | undefined;
  showType?: boolean;
  error?: string | undefined;
  question?: string | undefined;
  onValue: (v: unknown) => void;
}) => {
  const errId = `${path}-error`;
  const common = {
    id: path,
    name: path,
    'aria-invalid': Boolean(error),
    'aria-describedby': error ? errId : undefined,
    'data-field': path,
  };
  let input;
  if (type === 'boolean')
    input = <input type="checkbox" {...common} checked={value === true} onChange={(e) => onValue(e.target.checked)} />;
  else if (enumValues?.length)
    input = (
      <select
        {...common}
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
        {...common}
        value={value === undefined ? '' : String(value)}
        onChange={(e) => onValue(numberOrRaw(e.target.value))}
      />
    );
  else if (type === 'string-list')
    input = (
      <input
        type="text"
        {...common}
        placeholder="comma-separated"
        value={Array.isArray(value) ? value.join(', ') : ''}
        onChange={(e) =>
          onValue(
            e.target.value
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          )
        }
      />
    );
  else if (type === 'script')
    input = (
      <textarea
        rows={3}
        {...common}
        value={typeof value === 'string' ? value : ''}
        onChange={(e) => onValue(e.target.value)}
      />
    );
  else
    input = (
      <input
        type="text"
        {...common}
        value={value === undefined || value === null ? '' : String(value)}
        onChange={(e) => onValue(e.target.value === '' ? undefined : e.target.value)}
      />
    );
  return (
    <div className={`param${question ? ' needed' : ''}`}>
      <label htmlFor={path}>
        <span>
          {name} {showType && <span className="muted small">{type}</span>}
        </span>
      </label>
      {input}
      {question && !error && <p className="small warn-text">{question}</p>}
      <FieldError id={errId} text={error} />
    </div>
  );
};

const selectorText = (t: PlanDraft['steps'][number]['targets']): string => {
  if (!t) return 'the executor itself';
  const parts = [
    t.group && `group "${t.group}"`,
    t.targets?.length && `targets ${t.targets.join(', ')}`,
    t.tags?.length && `tags ${t.tags.join(', ')}`,
    t.os && `${t.os} only`,
  ];
  return parts.filter(Boolean).join(', ');
};

/** The plan, expanded: steps with their parameters and per-step limits, their rollback, and the rollout policies. */
export const PlanEditor = ({ draft, plan, tools, errors, missing, onChange }: EditorProps) => {
  const setStep = (index: number, patch: (s: PlanDraft['steps'][number]) => PlanDraft['steps'][number]) =>
    onChange({ ...draft, steps: draft.steps.map((s, i) => (i === index ? patch(s) : s)) });
  const setParam = (index: number, name: string, value: unknown) =>
    setStep(index, (s) => {
      const params = { ...s.params };
      if (value === undefined) delete params[name];
      else params[name] = value;
      return { ...s, params };
    });
  const setPolicy = (key: keyof RolloutPolicies, value: unknown) => {
    const policies = { ...draft.policies } as Record<string, unknown>;
    if (value === undefined) delete policies[key];
    else policies[key] = value;
    onChange({ ...draft, policies: policies as RolloutPolicies });
  };
  const rollbackOf = (id: string) =>
    plan?.steps.filter((s) => (s.id === id || s.variantOf === id) && s.rollback).map((s) => s.rollback?.name) ?? [];

  return (
    <div className="plan-editor" data-testid="plan-editor">
      <ol className="steps-edit">
        {draft.steps.map((step, index) => {
          const tool = tools.get(step.tool);
          const names = [
            ...new Set([
              ...Object.keys(tool?.params ?? {}),
              ...Object.keys(step.params),
              ...[...missing.keys()]
                .filter((p) => p.startsWith(`steps.${index}.params.`))
                .map((p) => p.split('.')[3] ?? ''),
            ]),
          ].filter(Boolean);
          const rollback = rollbackOf(step.id);
          const stepError =
            errors.get(`steps.${index}`) ?? errors.get(`steps.${index}.tool`) ?? errors.get(`steps.${index}.targets`);
          return (
            <li key={step.id} className="step-edit" data-testid={`step-${step.id}`}>
              <div className="row">
                <strong>{step.name ?? step.id}</strong>
                <code className="muted">{step.tool}</code>
                {tool && <span className={`badge risk-${tool.risk}`}>{tool.risk}</span>}
                <span className="spacer" />
                <span className="small muted">on {selectorText(step.targets)}</span>
              </div>
              {tool && <p className="small muted">{tool.description}</p>}
              {stepError && <p className="field-error">{stepError}</p>}
              <div className="params">
                {names.map((name) => {
                  const path = `steps.${index}.params.${name}`;
                  const spec = tool?.params[name];
                  return (
                    <ParamInput
                      key={path}
                      path={path}
                      name={name}
                      value={step.params[name]}
                      type={
                        spec?.type ??
                        (typeof step.params[name] === 'number'
                          ? 'integer'
                          : typeof step.params[name] === 'boolean'
                            ? 'boolean'
                            : 'string')
                      }
                      enumValues={spec?.enum}
                      error={errors.get(path)}
                      question={missing.get(path)}
                      onValue={(v) => setParam(index, name, v)}
                    />
                  );
                })}
                {(['timeoutSeconds', 'retries'] as const).map((key) => {
                  const path = `steps.${index}.${key}`;
                  return (
                    <ParamInput
                      key={path}
                      path={path}
                      name={key === 'retries' ? 'Attempts (this step)' : 'Timeout s (this step)'}
                      value={step[key]}
                      type="integer"
                      showType={false}
                      error={errors.get(path)}
                      onValue={(v) =>
                        setStep(index, (s) => {
                          const next = { ...s } as Record<string, unknown>;
                          if (v === undefined) delete next[key];
                          else next[key] = v;
                          return next as PlanDraft['steps'][number];
                        })
                      }
                    />
                  );
                })}
              </div>
              <p className="small muted">
                Rollback: {rollback.length ? rollback.join('; ') : 'none (nothing to undo)'}
              </p>
            </li>
          );
        })}
      </ol>
      <h3>Rollout policies</h3>
      <div className="params policies">
        {POLICY_FIELDS.map(({ key, label, kind }) => {
          const path = `policies.${key}`;
          const value = draft.policies[key];
          return (
            <ParamInput
              key={path}
              path={path}
              name={label}
              value={value}
              type={kind === 'bool' ? 'boolean' : kind === 'int' || kind === 'number' ? 'integer' : 'string'}
              enumValues={Array.isArray(kind) ? kind : undefined}
              showType={false}
              error={errors.get(path)}
              onValue={(v) => setPolicy(key, v)}
            />
          );
        })}
      </div>
    </div>
  );
};
