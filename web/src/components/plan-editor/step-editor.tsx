'use client';
import { useContext } from 'react';
import type { TargetSelector } from '@opsc/contracts';
import type { ToolSummary } from '@opsc/contracts/api';
import { takesTargets, withKey, type DraftStep } from '../../lib/draft-edits';
import { FieldContext, FieldError, ParamInput, useField, type ParamType } from './fields';
import { TargetEditor, type InventoryView } from './target-editor';
import { ArtifactChooser } from './artifact-chooser';

export interface StepEditorProps {
  step: DraftStep;
  index: number;
  count: number;
  tool: ToolSummary | undefined;
  /** Names of the rollback actions the validator compiled for this step; null while the plan does not validate. */
  rollback: string[] | null;
  /** Questions the planner asked, by parameter path. */
  missing: ReadonlyMap<string, string>;
  /** Its targets are edited with every step's, above. */
  sharedTargets: boolean;
  inventory: InventoryView;
  onChange: (step: DraftStep) => void;
  onTargets: (selector: TargetSelector | undefined) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}

const typeOf = (value: unknown): ParamType =>
  typeof value === 'number'
    ? 'integer'
    : typeof value === 'boolean'
      ? 'boolean'
      : Array.isArray(value)
        ? 'string-list'
        : 'string';

/** The parameters a step shows: the tool's, the ones it has, and any the validator or the planner named. */
const paramNames = (step: DraftStep, tool: ToolSummary | undefined, at: string, paths: Iterable<string>): string[] => {
  const named = [...paths].filter((p) => p.startsWith(`${at}.params.`)).map((p) => p.split('.')[3] ?? '');
  return [...new Set([...Object.keys(tool?.params ?? {}), ...Object.keys(step.params), ...named])].filter(Boolean);
};

/** One step: its order and removal, tool, name, targets, parameters, per-step limits and rollback. */
export const StepEditor = (props: StepEditorProps) => {
  const { step, index, count, tool, rollback, missing, sharedTargets, inventory } = props;
  const { errors } = useContext(FieldContext);
  const at = `steps.${index}`;
  const title = step.name ?? step.id;
  const whole = useField(at);
  const toolField = useField(`${at}.tool`);
  const paramsField = useField(`${at}.params`);
  const executorTargets = useField(`${at}.targets`);
  const names = paramNames(step, tool, at, [...errors.keys(), ...missing.keys()]);
  const onTargets = takesTargets(step, tool);
  const headingId = `${whole.id}-heading`;

  return (
    <li
      className="step-edit"
      data-testid={`step-${step.id}`}
      data-step-index={index}
      aria-labelledby={headingId}
      aria-describedby={whole.messages.length ? whole.errorId : undefined}
    >
      <div className="row step-head">
        <strong id={headingId} tabIndex={-1} data-step-heading={step.id}>
          Step {index + 1}: {title}
        </strong>
        <code
          className="muted"
          id={toolField.id}
          aria-describedby={toolField.messages.length ? toolField.errorId : undefined}
        >
          {step.tool}
        </code>
        {tool && <span className={`badge risk-${tool.risk}`}>{tool.risk}</span>}
        <span className="spacer" />
        <span className="row step-order" role="group" aria-label={`Order of step ${index + 1}`}>
          <button
            type="button"
            data-move={`${step.id}:up`}
            aria-label={`Move step ${index + 1} (${title}) up`}
            disabled={index === 0}
            onClick={() => props.onMove(-1)}
          >
            ↑ Up
          </button>
          <button
            type="button"
            data-move={`${step.id}:down`}
            aria-label={`Move step ${index + 1} (${title}) down`}
            disabled={index === count - 1}
            onClick={() => props.onMove(1)}
          >
            ↓ Down
          </button>
          <button type="button" aria-label={`Remove step ${index + 1} (${title})`} onClick={props.onRemove}>
            Remove
          </button>
        </span>
      </div>
      {tool ? (
        <p className="small muted">{tool.description}</p>
      ) : (
        <p className="small warn-text">{step.tool} is not in the tool catalog.</p>
      )}
      <FieldError id={toolField.errorId} field={`${at}.tool`} messages={toolField.messages} />
      <FieldError id={whole.errorId} field={at} messages={whole.messages} />
      {onTargets && sharedTargets && <p className="small muted">Targets: the plan&apos;s targets, above.</p>}
      {onTargets && !sharedTargets && (
        <TargetEditor
          base={`${at}.targets`}
          legend={`Targets of step ${index + 1}`}
          selector={step.targets ?? {}}
          inventory={inventory}
          onChange={props.onTargets}
        />
      )}
      {!onTargets && (
        <div className="row small">
          <span className="muted">Runs on the executor itself{step.targets ? ', but names targets' : ''}.</span>
          {step.targets && (
            <button
              type="button"
              aria-describedby={executorTargets.messages.length ? executorTargets.errorId : undefined}
              onClick={() => props.onTargets(undefined)}
            >
              Take the targets away
            </button>
          )}
          <FieldError id={executorTargets.errorId} field={`${at}.targets`} messages={executorTargets.messages} />
        </div>
      )}
      <div
        className="params"
        role="group"
        aria-label={`Parameters of step ${index + 1}`}
        aria-describedby={paramsField.messages.length ? paramsField.errorId : undefined}
      >
        {names.map((name) => {
          const path = `${at}.params.${name}`;
          const spec = tool?.params[name];
          // A tool that pins its source's SHA-256 (file-copy) takes the source from the uploaded artifacts.
          if (name === 'source' && tool?.params.sha256)
            return (
              <ArtifactChooser
                key={path}
                field={path}
                source={step.params.source}
                sha256={step.params.sha256}
                question={missing.get(path)}
                onPick={(source, sha256) =>
                  props.onChange({ ...step, params: withKey(withKey(step.params, 'source', source), 'sha256', sha256) })
                }
              />
            );
          const fallback = spec?.default;
          return (
            <ParamInput
              key={path}
              field={path}
              label={name}
              typeHint={spec ? `${spec.type}${spec.required ? ', required' : ''}` : 'not in the tool'}
              value={step.params[name]}
              type={spec?.type ?? typeOf(step.params[name])}
              enumValues={spec?.enum}
              placeholder={fallback === undefined ? undefined : `default ${String(fallback)}`}
              question={missing.get(path)}
              onValue={(v) => props.onChange({ ...step, params: withKey(step.params, name, v) })}
            />
          );
        })}
        <ParamInput
          field={`${at}.name`}
          label="Step name"
          type="string"
          value={step.name}
          placeholder={step.id}
          onValue={(v) => props.onChange(withKey(step, 'name', v))}
        />
        {(['timeoutSeconds', 'retries'] as const).map((key) => (
          <ParamInput
            key={key}
            field={`${at}.${key}`}
            label={key === 'retries' ? 'Attempts (this step)' : 'Timeout s (this step)'}
            type="integer"
            value={step[key]}
            onValue={(v) => props.onChange(withKey(step, key, v))}
          />
        ))}
      </div>
      <FieldError id={paramsField.errorId} field={`${at}.params`} messages={paramsField.messages} />
      <p className="small muted">
        Rollback:{' '}
        {rollback === null
          ? 'shown once the plan validates'
          : rollback.length
            ? rollback.join('; ')
            : 'none (nothing to undo)'}
      </p>
    </li>
  );
};
