'use client';
import { useEffect, useRef, useState } from 'react';
import type { Plan, PlanDraft, RolloutPolicies } from '@opsc/contracts';
import type { ToolSummary } from '@opsc/contracts/api';
import {
  addStep,
  lastTargets,
  moveStep,
  removeStep,
  setStep,
  setTargets,
  targetedSteps,
  withKey,
  type Edited,
} from '../../lib/draft-edits';
import { SHARED_TARGETS } from '../../lib/plan-issues';
import { FieldError, ParamInput, useField } from './fields';
import { StepEditor } from './step-editor';
import { TargetEditor, type InventoryView } from './target-editor';

interface EditorProps {
  draft: PlanDraft;
  plan: Plan | null;
  tools: ReadonlyMap<string, ToolSummary>;
  inventory: InventoryView;
  /** The planner's questions by parameter path. */
  missing: ReadonlyMap<string, string>;
  /** Every step that acts on targets acts on the same ones, edited once (`all.targets`). */
  shared: boolean;
  onShared: (shared: boolean) => void;
  onEdit: (edited: Edited) => void;
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

/** Picks a tool from the catalog and adds a step running it at the end of the plan. */
const AddStep = ({ tools, onAdd }: { tools: ReadonlyMap<string, ToolSummary>; onAdd: (tool: ToolSummary) => void }) => {
  const [name, setName] = useState('');
  const field = useField('steps', [], 'hint');
  const tool = tools.get(name);
  const sorted = [...tools.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div className="add-step">
      <div className="row">
        <label htmlFor={`${field.id}-new-tool`}>Tool for a new step</label>
        <select
          id={`${field.id}-new-tool`}
          data-field="new-step-tool"
          aria-describedby={field.control['aria-describedby']}
          value={name}
          onChange={(e) => setName(e.target.value)}
        >
          <option value="">— choose a tool —</option>
          {sorted.map((t) => (
            <option key={t.name} value={t.name}>
              {t.name} ({t.risk})
            </option>
          ))}
        </select>
        <button type="button" disabled={!tool} onClick={() => tool && onAdd(tool)}>
          Add step
        </button>
      </div>
      <p className="small muted" id={field.hintId}>
        {tool ? tool.description : 'The new step comes last; move it where it belongs.'}
      </p>
      <FieldError id={field.errorId} field="steps" messages={field.messages} />
    </div>
  );
};

/** The plan, editable: its name, targets (per step or for every step at once), steps, and the rollout policies. */
export const PlanEditor = ({ draft, plan, tools, inventory, missing, shared, onShared, onEdit }: EditorProps) => {
  const root = useRef<HTMLDivElement>(null);
  // What to focus once the edit is drawn: a moved step keeps focus on its button, as keyboard users expect.
  const focusNext = useRef<string | null>(null);
  useEffect(() => {
    if (!focusNext.current) return;
    const el = root.current?.querySelector<HTMLElement>(focusNext.current);
    focusNext.current = null;
    el?.focus();
  });

  const targeted = targetedSteps(draft, tools);
  const first = targeted[0] === undefined ? undefined : draft.steps[targeted[0]];
  const edit = (next: PlanDraft) => onEdit({ draft: next });
  const rollbackOf = (id: string) =>
    plan?.steps.filter((s) => (s.id === id || s.variantOf === id) && s.rollback).map((s) => s.rollback?.name ?? '') ??
    null;

  const move = (index: number, delta: -1 | 1) => {
    const moved = moveStep(draft, index, delta);
    const id = draft.steps[index]?.id;
    if (!moved || !id) return;
    const to = index + delta;
    const edge = to === 0 || to === draft.steps.length - 1;
    const dir = (delta === -1) !== edge ? 'up' : 'down';
    focusNext.current = `[data-move="${CSS.escape(`${id}:${dir}`)}"]`;
    onEdit(moved);
  };
  const remove = (index: number) => {
    const next = draft.steps[index + 1] ?? draft.steps[index - 1];
    focusNext.current = next ? `[data-step-heading="${CSS.escape(next.id)}"]` : '[data-field="new-step-tool"]';
    onEdit(removeStep(draft, index));
  };
  const add = (tool: ToolSummary) => {
    const targets = shared && first?.targets ? first.targets : lastTargets(draft, tools);
    const added = addStep(draft, tool, targets);
    const id = added.draft.steps.at(-1)?.id ?? '';
    focusNext.current = `[data-step-heading="${CSS.escape(id)}"]`;
    onEdit(added);
  };
  const share = (on: boolean) => {
    if (on && first) edit(setTargets(draft, targeted, first.targets ?? {}));
    onShared(on);
  };

  return (
    <div className="plan-editor" data-testid="plan-editor" ref={root}>
      <div className="params">
        <ParamInput
          field="name"
          label="Plan name"
          type="string"
          value={draft.name}
          onValue={(v) => edit(withKey(draft, 'name', v ?? ''))}
        />
      </div>
      {targeted.length > 1 && (
        <label className="inline">
          <input type="checkbox" checked={shared} onChange={(e) => share(e.target.checked)} />
          The same targets for every step
        </label>
      )}
      {shared && first && (
        <TargetEditor
          base={SHARED_TARGETS}
          legend="Targets of every step"
          selector={first.targets ?? {}}
          inventory={inventory}
          onChange={(selector) => edit(setTargets(draft, targeted, selector))}
        />
      )}
      <h3>Steps</h3>
      <ol className="steps-edit" aria-label="Steps">
        {draft.steps.map((step, index) => (
          <StepEditor
            key={step.id}
            step={step}
            index={index}
            count={draft.steps.length}
            tool={tools.get(step.tool)}
            rollback={rollbackOf(step.id)}
            missing={missing}
            sharedTargets={shared && targeted.includes(index)}
            inventory={inventory}
            onChange={(s) => edit(setStep(draft, index, () => s))}
            onTargets={(selector) => edit(setTargets(draft, [index], selector))}
            onMove={(delta) => move(index, delta)}
            onRemove={() => remove(index)}
          />
        ))}
      </ol>
      <AddStep tools={tools} onAdd={add} />
      <h3>Rollout policies</h3>
      <PolicyFields draft={draft} onEdit={edit} />
    </div>
  );
};

const PolicyFields = ({ draft, onEdit }: { draft: PlanDraft; onEdit: (draft: PlanDraft) => void }) => {
  const whole = useField('policies');
  return (
    <>
      <div
        className="params policies"
        role="group"
        aria-label="Rollout policies"
        aria-describedby={whole.messages.length ? whole.errorId : undefined}
      >
        {POLICY_FIELDS.map(({ key, label, kind }) => (
          <ParamInput
            key={key}
            field={`policies.${key}`}
            label={label}
            value={draft.policies[key]}
            type={kind === 'bool' ? 'boolean' : kind === 'int' || kind === 'number' ? 'integer' : 'string'}
            enumValues={Array.isArray(kind) ? kind : undefined}
            onValue={(v) => onEdit({ ...draft, policies: withKey(draft.policies, key, v) })}
          />
        ))}
      </div>
      <FieldError id={whole.errorId} field="policies" messages={whole.messages} />
    </>
  );
};
