import { describe, expect, it } from 'vitest';
import { checkRunValues, fillTemplatePlan, paramValueProblem } from './template-fill.js';
import { TemplatePlan, type TemplateParam } from './template-schema.js';

const param = (over: Partial<TemplateParam> & Pick<TemplateParam, 'name' | 'type'>): TemplateParam => ({
  description: over.name,
  required: true,
  binds: [{ step: 's', param: over.name }],
  ...over,
});

const service = param({ name: 'service', type: 'string', patterns: ['[a-z][a-z0-9-]*'], maxLength: 20 });
const count = param({ name: 'count', type: 'integer', min: 1, max: 10, required: false, default: 3 });
const mode = param({ name: 'mode', type: 'string', enum: ['fast', 'safe'], required: false });
const where = param({ name: 'where', type: 'group', binds: [{ step: 's', selector: 'group' }] });
const hosts = param({ name: 'hosts', type: 'target-list', binds: [{ step: 't', selector: 'targets' }] });

const plan = TemplatePlan.parse({
  name: 'restart',
  steps: [
    {
      id: 's',
      tool: 'service-restart',
      params: { service: '{{params.service}}', count: '{{params.count}}', mode: '{{params.mode}}' },
      targets: '{{params.where}}',
    },
    { id: 't', tool: 'service-status', params: { service: '{{params.service}}' }, targets: '{{params.hosts}}' },
  ],
});
const all = [service, count, mode, where, hosts];

describe('paramValueProblem', () => {
  it('checks type, enum, every pattern, bounds and length', () => {
    expect(paramValueProblem(service, 'nginx')).toBeNull();
    expect(paramValueProblem(service, 'nginx; rm -rf /')).toMatch(/must match/);
    expect(paramValueProblem(service, 'x'.repeat(21))).toMatch(/longer than 20/);
    expect(paramValueProblem(service, 42)).toBe('must be text');
    expect(paramValueProblem(count, 11)).toBe('must be at most 10');
    expect(paramValueProblem(count, '4')).toBeNull();
    expect(paramValueProblem(count, 2.5)).toBe('must be a whole number');
    expect(paramValueProblem(mode, 'slow')).toBe('must be one of: fast, safe');
    expect(paramValueProblem(hosts, [])).toBe('must name at least one item');
    expect(paramValueProblem(hosts, ['web-1', 'web;2'])).toMatch(/item 2 is not an inventory name/);
    expect(paramValueProblem(where, 'Production Web')).toBeNull();
  });

  it('refuses template syntax inside a value, whatever the pattern allows', () => {
    const loose = param({ name: 'text', type: 'string' });
    expect(paramValueProblem(loose, '{{params.other}}')).toMatch(/may not contain "\{\{"/);
    expect(paramValueProblem(loose, 'a{{facts.backup}}')).toMatch(/may not contain/);
  });
});

describe('checkRunValues', () => {
  it('names every field at fault: unknown, missing, invalid', () => {
    const { issues } = checkRunValues(all, { service: 'Bad Name', colour: 'red', count: 0 });
    expect(issues).toEqual([
      { path: 'params.colour', message: 'is not a parameter of this template' },
      { path: 'params.service', message: 'must match [a-z][a-z0-9-]*' },
      { path: 'params.count', message: 'must be at least 1' },
      { path: 'params.where', message: 'is required' },
      { path: 'params.hosts', message: 'is required' },
    ]);
  });
});

describe('fillTemplatePlan', () => {
  it('fills every placeholder with a typed value, a selector for target parameters, and drops an absent optional', () => {
    const filled = fillTemplatePlan(plan, all, {
      service: 'nginx',
      count: '5',
      where: 'Production Web',
      hosts: ['web-1'],
    });
    expect(filled.issues).toEqual([]);
    expect(filled.draft).toMatchObject({
      steps: [
        { id: 's', params: { service: 'nginx', count: 5 }, targets: { group: 'Production Web' } },
        { id: 't', params: { service: 'nginx' }, targets: { targets: ['web-1'] } },
      ],
    });
    expect((filled.draft as typeof plan).steps[0]!.params).not.toHaveProperty('mode');
    expect(JSON.stringify(filled.draft)).not.toContain('{{');
  });

  it('uses defaults, and never reads a value as a placeholder again', () => {
    const filled = fillTemplatePlan(plan, all, { service: 'nginx', where: 'web', hosts: ['a'] });
    expect((filled.draft as typeof plan).steps[0]!.params.count).toBe(3);
  });

  it('refuses a placeholder no parameter fills (a stored plan edited by hand)', () => {
    const broken = TemplatePlan.parse({
      name: 'x',
      steps: [
        { id: 's', tool: 'service-status', params: { service: 'pre-{{params.service}}' }, targets: { group: 'g' } },
      ],
    });
    expect(fillTemplatePlan(broken, [service], { service: 'nginx' })).toEqual({
      draft: null,
      issues: [{ path: 'plan.steps.0.params.service', message: 'holds a template placeholder no parameter fills' }],
      values: { service: 'nginx' },
    });
  });
});
