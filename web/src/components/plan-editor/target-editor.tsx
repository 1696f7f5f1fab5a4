'use client';
import type { OsFamily, TargetSelector } from '@opsc/contracts';
import { cleanSelector, withKey } from '../../lib/draft-edits';
import { FieldError, ListInput, useField } from './fields';

/** What the editor knows of the tenant's inventory, to offer groups and check names as they are typed. */
export interface InventoryView {
  /** False until the inventory answered (or when it could not be read): then nothing is checked here. */
  loaded: boolean;
  groups: string[];
  targets: { name: string; os: OsFamily; tags: string[] }[];
}

export const EMPTY_INVENTORY: InventoryView = { loaded: false, groups: [], targets: [] };

const OS_CHOICES: { value: '' | OsFamily; label: string }[] = [
  { value: '', label: 'any' },
  { value: 'linux', label: 'Linux only' },
  { value: 'windows', label: 'Windows only' },
];

const notIn = (names: readonly string[] | undefined, known: ReadonlySet<string>): string[] =>
  (names ?? []).filter((n) => !known.has(n));

/**
 * The targets of a step (or of every step at once, `base` = `all.targets`): a group from the
 * inventory, target names, tags and an OS filter, each with the validator's issues on it.
 */
export const TargetEditor = ({
  base,
  legend,
  selector,
  inventory,
  onChange,
}: {
  base: string;
  legend: string;
  selector: TargetSelector;
  inventory: InventoryView;
  onChange: (selector: TargetSelector) => void;
}) => {
  const set = (key: keyof TargetSelector, value: unknown) => onChange(cleanSelector(withKey(selector, key, value)));
  const targetNames = new Set(inventory.targets.map((t) => t.name));
  const tagNames = new Set(inventory.targets.flatMap((t) => t.tags));
  const unknownNames = inventory.loaded ? notIn(selector.targets, targetNames) : [];
  const unknownTags = inventory.loaded ? notIn(selector.tags, tagNames) : [];

  const whole = useField(base);
  const group = useField(`${base}.group`);
  const names = useField(
    `${base}.targets`,
    unknownNames.length ? [`not in the inventory: ${unknownNames.join(', ')}`] : [],
    'hint',
  );
  const tags = useField(`${base}.tags`, unknownTags.length ? [`no target has the tag ${unknownTags.join(', ')}`] : []);
  const os = useField(`${base}.os`);
  const groupKnown = !selector.group || inventory.groups.includes(selector.group);

  return (
    <fieldset
      className="targets-edit"
      data-field={base}
      aria-invalid={whole.messages.length > 0}
      aria-describedby={whole.messages.length ? whole.errorId : undefined}
    >
      <legend>{legend}</legend>
      <div className="params">
        <div className="param">
          <label htmlFor={group.id}>Group</label>
          <select
            {...group.control}
            value={selector.group ?? ''}
            onChange={(e) => set('group', e.target.value || undefined)}
          >
            <option value="">— no group —</option>
            {!groupKnown && <option value={selector.group}>{selector.group} (not in the inventory)</option>}
            {inventory.groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
          <FieldError id={group.errorId} field={`${base}.group`} messages={group.messages} />
        </div>
        <div className="param">
          <label htmlFor={names.id}>Target names</label>
          <ListInput
            control={names.control}
            value={selector.targets ?? []}
            placeholder="names, comma-separated"
            onValue={(list) => set('targets', list.length ? list : undefined)}
          />
          <p className="small muted" id={names.hintId}>
            Added to the group&apos;s targets.
          </p>
          <FieldError id={names.errorId} field={`${base}.targets`} messages={names.messages} />
        </div>
        <div className="param">
          <label htmlFor={tags.id}>Tags (all must match)</label>
          <ListInput
            control={tags.control}
            value={selector.tags ?? []}
            placeholder="tags, comma-separated"
            onValue={(list) => set('tags', list.length ? list : undefined)}
          />
          <FieldError id={tags.errorId} field={`${base}.tags`} messages={tags.messages} />
        </div>
        <div className="param">
          <label htmlFor={os.id}>Operating system</label>
          <select {...os.control} value={selector.os ?? ''} onChange={(e) => set('os', e.target.value || undefined)}>
            {OS_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
          <FieldError id={os.errorId} field={`${base}.os`} messages={os.messages} />
        </div>
      </div>
      <FieldError id={whole.errorId} field={base} messages={whole.messages} />
    </fieldset>
  );
};
