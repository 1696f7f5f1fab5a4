import { describe, expect, it } from 'vitest';
import type { PlanDraft } from '@opsc/contracts';
import { fieldOf, issuesByPath, pathInWords, placeIssues, reindexIssues, SHARED_TARGETS } from './plan-issues';

const draft = {
  name: 'restart nginx',
  steps: [
    { id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: { group: 'Web' } },
    { id: 'check', tool: 'http-check', params: {}, name: 'check the site' },
    { id: 'start', tool: 'service-start', params: { service: 'nginx' }, targets: { group: 'Web' } },
  ],
  policies: {},
} as unknown as PlanDraft;
const own = { shared: new Set<number>() };
const shared = { shared: new Set([0, 2]) };

describe('fieldOf: every path the validator names, on the field that shows it', () => {
  it.each([
    ['name', 'name'],
    ['steps', 'steps'],
    ['steps.1', 'steps.1'],
    ['steps.1.id', 'steps.1'],
    ['steps.1.tool', 'steps.1.tool'],
    ['steps.1.name', 'steps.1.name'],
    ['steps.1.timeoutSeconds', 'steps.1.timeoutSeconds'],
    ['steps.1.retries', 'steps.1.retries'],
    ['steps.0.params', 'steps.0.params'],
    ['steps.0.params.service', 'steps.0.params.service'],
    ['steps.0.params.paths.2', 'steps.0.params.paths'],
    ['steps.2.targets', 'steps.2.targets'],
    ['steps.2.targets.group', 'steps.2.targets.group'],
    ['steps.2.targets.targets.3', 'steps.2.targets.targets'],
    ['steps.2.targets.tags.0', 'steps.2.targets.tags'],
    ['steps.2.targets.os', 'steps.2.targets.os'],
    ['steps.2.targets.unknown', 'steps.2.targets'],
    ['policies', 'policies'],
    ['policies.maxParallel', 'policies.maxParallel'],
    ['policies.decisionTimeoutSeconds', 'policies'],
  ])('%s is shown on %s', (path, field) => expect(fieldOf(path, draft, own)).toBe(field));

  it('puts the targets of steps edited together on the shared fields, and the others on their own', () => {
    expect(fieldOf('steps.2.targets.group', draft, shared)).toBe(`${SHARED_TARGETS}.group`);
    expect(fieldOf('steps.0.targets', draft, shared)).toBe(SHARED_TARGETS);
    expect(fieldOf('steps.1.targets', draft, shared)).toBe('steps.1.targets');
  });

  it.each(['(root)', 'request', 'steps.7.params.service', 'steps.x', 'steps.1.action.url', 'plan'])(
    '%s has no field',
    (path) => expect(fieldOf(path, draft, own)).toBeNull(),
  );
});

describe('pathInWords', () => {
  it.each([
    ['(root)', 'the plan as a whole'],
    ['name', 'the plan name'],
    ['steps', 'the list of steps'],
    ['steps.2.targets.group', 'step 3 (start): targets, group'],
    ['steps.0.targets.targets.1', 'step 1 (stop): targets, target names (item 2)'],
    ['steps.1.params.url', 'step 2 (check the site): parameter url'],
    ['steps.1.action.url', 'step 2 (check the site): action › url'],
    ['steps.9.tool', 'step 10: tool'],
    ['policies.maxParallel', 'rollout policies: targets at once'],
  ])('%s reads "%s"', (path, words) => expect(pathInWords(path, draft)).toBe(words));
});

describe('placeIssues', () => {
  it('puts each issue on its field, says a shared one once, and lists the rest in words', () => {
    const issues = issuesByPath([
      { path: 'plan.steps.0.targets.group', message: 'no such group' },
      { path: 'plan.steps.2.targets.group', message: 'no such group' },
      { path: 'plan.steps.0.params.service', message: 'must match the pattern' },
      { path: 'plan.(root)', message: 'expected an object' },
      { path: 'plan.steps.5', message: 'gone' },
    ]);
    const placed = placeIssues(issues, draft, shared);
    expect(Object.fromEntries(placed.byField)).toEqual({
      [`${SHARED_TARGETS}.group`]: ['no such group'],
      'steps.0.params.service': ['must match the pattern'],
    });
    expect(placed.general).toEqual([
      { path: '(root)', words: 'the plan as a whole', message: 'expected an object' },
      { path: 'steps.5', words: 'step 6', message: 'gone' },
    ]);
    expect(placeIssues(issues, draft, own).byField.get('steps.2.targets.group')).toEqual(['no such group']);
  });
});

describe('reindexIssues', () => {
  it('moves issues with their steps and drops those of a removed step', () => {
    const issues = new Map([
      ['steps.0.params.service', 'a'],
      ['steps.1', 'b'],
      ['steps.2.targets.group', 'c'],
      ['policies.maxParallel', 'd'],
    ]);
    expect(Object.fromEntries(reindexIssues(issues, [1, null, 0]))).toEqual({
      'steps.1.params.service': 'a',
      'steps.0.targets.group': 'c',
      'policies.maxParallel': 'd',
    });
  });
});
