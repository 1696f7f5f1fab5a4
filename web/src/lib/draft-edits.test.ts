import { describe, expect, it } from 'vitest';
import type { PlanDraft } from '@opsc/contracts';
import type { ToolSummary } from '@opsc/contracts/api';
import {
  addStep,
  cleanSelector,
  lastTargets,
  moveStep,
  newStepId,
  removeStep,
  setTargets,
  sharesTargets,
  splitList,
  targetedSteps,
} from './draft-edits';

const tool = (name: string, places: ToolSummary['places']): ToolSummary => ({
  name,
  description: name,
  risk: 'change',
  places,
  params: {},
});
const tools = new Map(
  [tool('service-stop', ['linux', 'windows']), tool('http-check', ['executor']), tool('service-start', ['any'])].map(
    (t) => [t.name, t],
  ),
);
const draft = {
  name: 'p',
  steps: [
    { id: 'stop', tool: 'service-stop', params: {}, targets: { group: 'Web', os: 'linux' } },
    { id: 'check', tool: 'http-check', params: {} },
    { id: 'start', tool: 'service-start', params: {}, targets: { os: 'linux', group: 'Web' } },
  ],
  policies: {},
} as unknown as PlanDraft;

describe('draft edits', () => {
  it('knows which steps act on targets, and that they share them', () => {
    expect(targetedSteps(draft, tools)).toEqual([0, 2]);
    expect(sharesTargets(draft, tools)).toBe(true);
    const apart = setTargets(draft, [2], { group: 'Other' });
    expect(sharesTargets(apart, tools)).toBe(false);
    expect(apart.steps[2]?.targets).toEqual({ group: 'Other' });
    expect(lastTargets(apart, tools)).toEqual({ group: 'Other' });
  });

  it('sets the targets of several steps at once, and takes them away', () => {
    const all = setTargets(draft, [0, 2], { group: '', targets: ['web-1'], tags: [], os: 'windows' });
    expect(all.steps.map((s) => s.targets)).toEqual([
      { targets: ['web-1'], os: 'windows' },
      undefined,
      { targets: ['web-1'], os: 'windows' },
    ]);
    expect('targets' in (setTargets(draft, [0], undefined).steps[0] ?? {})).toBe(false);
    expect(cleanSelector({})).toEqual({});
  });

  it('moves a step up and down, and says where each went', () => {
    const up = moveStep(draft, 2, -1);
    expect(up?.draft.steps.map((s) => s.id)).toEqual(['stop', 'start', 'check']);
    expect(up?.order).toEqual([0, 2, 1]);
    expect(moveStep(draft, 0, -1)).toBeNull();
    expect(moveStep(draft, 2, 1)).toBeNull();
  });

  it('removes a step, and adds one with a fresh id and the targets it is given', () => {
    const removed = removeStep(draft, 1);
    expect(removed.draft.steps.map((s) => s.id)).toEqual(['stop', 'start']);
    expect(removed.order).toEqual([0, null, 1]);
    const added = addStep(draft, tool('stop', ['linux']), { group: 'Web' }).draft;
    expect(added.steps.at(-1)).toEqual({ id: 'stop-2', tool: 'stop', params: {}, targets: { group: 'Web' } });
    expect(addStep(draft, tool('http-check', ['executor']), { group: 'Web' }).draft.steps.at(-1)).toEqual({
      id: 'http-check',
      tool: 'http-check',
      params: {},
    });
    expect(newStepId(draft, 'check')).toBe('check-2');
  });

  it('reads a comma list as names', () => {
    expect(splitList(' web-1, ,web-2 ,')).toEqual(['web-1', 'web-2']);
  });
});
