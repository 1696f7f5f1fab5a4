import { beforeAll, describe, expect, it } from 'vitest';
import type { PlanDraftInput } from '@opsc/contracts';
import type { PlannerAnswer } from '../builtin/builtin-planner.js';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import type { Planner } from '../propose.js';
import { EvalCase, type Expectation } from './corpus.js';
import { runCase, summarize } from './run-eval.js';

/*
 * The scorer on hand-made answers: a planner that answers what the test says, through the real
 * proposePlan, validator and fixture inventory, so each verdict is what an operator would see.
 */

let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});

const answering = (answer: PlannerAnswer | Error): Planner => ({
  name: 'langchain',
  plan: async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  },
});
const draft = (steps: PlanDraftInput['steps'], policies: PlanDraftInput['policies'] = {}): PlannerAnswer => ({
  kind: 'plan',
  draft: { name: 'hand-made', steps, policies },
  notes: [],
});
const restart = (target = 'web-server-01', tool = 'service-restart') => ({
  id: 'restart',
  tool,
  params: { service: 'nginx' },
  targets: { targets: [target] },
});
const caseOf = (request: string, e: Expectation | Expectation[]) =>
  ({
    ...EvalCase.parse({ id: 'hand-made', request, ...(Array.isArray(e) ? { anyOf: e } : { expect: e }) }),
    category: 'services',
  }) as const;

const RESTART_ONE_AT_A_TIME = caseOf('restart nginx on web-server-01 one host at a time', {
  status: 'ready',
  tools: ['service-restart'],
  risk: 'change',
  approval: true,
  targets: { names: ['web-server-01'] },
  policies: { maxParallel: 1 },
  steps: [{ tool: 'service-restart', params: { service: 'nginx' } }],
});
const score = (c: ReturnType<typeof caseOf>, answer: PlannerAnswer | Error) =>
  runCase(c, { catalog, llm: answering(answer) });

describe('the scorer', () => {
  it('passes an answer with everything the case states', async () => {
    const r = await score(RESTART_ONE_AT_A_TIME, draft([restart()], { maxParallel: 1 }));
    expect(r).toMatchObject({ verdict: 'pass', reasons: [], planner: 'langchain' });
    expect(r.ms).toBeGreaterThan(0);
  });

  it('calls the right plan with a wrong secondary expectation partial, saying which', async () => {
    const r = await score(RESTART_ONE_AT_A_TIME, draft([restart()]));
    expect(r.verdict).toBe('partial');
    expect(r.reasons).toEqual(['policies.maxParallel: expected 1, got 25']);
  });

  it('fails a secondary expectation the case names as its point', async () => {
    const c = caseOf('restart nginx on web-server-01 one host at a time', {
      ...RESTART_ONE_AT_A_TIME.expect!,
      primary: ['policies'],
    });
    expect((await score(c, draft([restart()]))).verdict).toBe('fail');
  });

  it('fails the wrong tool, the wrong targets, missing approval and a refusal, each with its reason', async () => {
    const status = await score(
      RESTART_ONE_AT_A_TIME,
      draft([restart('web-server-01', 'service-status')], { maxParallel: 1 }),
    );
    expect(status.verdict).toBe('fail');
    expect(status.reasons).toContain('tools: expected in order "service-restart", got "service-status"');
    expect(status.reasons).toContain('approval: expected required, got not required');

    const elsewhere = await score(RESTART_ONE_AT_A_TIME, draft([restart('web-server-02')], { maxParallel: 1 }));
    expect(elsewhere.verdict).toBe('fail');
    expect(elsewhere.reasons).toEqual(['targets: expected "web-server-01", got "web-server-02"']);

    const unknown = await score(RESTART_ONE_AT_A_TIME, draft([restart('web-server-99')], { maxParallel: 1 }));
    expect(unknown.verdict).toBe('fail');
    expect(unknown.reasons.join('\n')).toMatch(/status: expected ready, got invalid/);
    expect(unknown.reasons.join('\n')).toMatch(
      /targets: the plan's targets do not resolve \(targets.0: no target named "web-server-99"\)/,
    );

    const refused = await score(RESTART_ONE_AT_A_TIME, { kind: 'refusal', message: 'I will not.', closestTools: [] });
    expect(refused).toMatchObject({ verdict: 'fail', reasons: ['status: expected ready, got refused (I will not.)'] });
  });

  it('fails a planner that did not answer, though the built-in one did', async () => {
    const r = await score(RESTART_ONE_AT_A_TIME, new Error('the model timed out'));
    expect(r.planner).toBe('built-in');
    expect(r.verdict).toBe('fail');
    expect(r.reasons[0]).toBe(
      'the planner under test did not answer: the langchain planner failed: the model timed out',
    );
  });

  it('reads risk and approval from the draft when inputs are missing, and checks the questions asked', async () => {
    const c = caseOf('copy the new file to web-server-01', {
      status: 'needs-input',
      tools: ['file-copy'],
      risk: 'change',
      approval: true,
      missing: ['source', 'destination'],
    });
    const copy = (params: Record<string, unknown>) =>
      draft([{ id: 'copy', tool: 'file-copy', params, targets: { targets: ['web-server-01'] } }]);
    expect(await score(c, copy({}))).toMatchObject({ verdict: 'pass' });
    const half = await score(c, copy({ destination: '/opt/app/app.bin' }));
    expect(half.verdict).toBe('partial');
    expect(half.reasons).toEqual(['missing: expected a question for "destination", got "steps.0.params.source"']);
  });

  it('takes the best of anyOf, and checks text and forbidden tools', async () => {
    const c = caseOf('run `uptime; rm -rf /` on web-server-01', [
      {
        status: 'ready',
        tools: ['run-script'],
        approval: true,
        steps: [{ tool: 'run-script', contains: { script: 'rm -rf /' } }],
      },
      {
        status: ['ready', 'refused'],
        notTools: ['run-command'],
        textIncludes: ['rm -rf /'],
        primary: ['textIncludes'],
      },
    ]);
    const script = draft([
      { id: 's', tool: 'run-script', params: { script: 'uptime; rm -rf /' }, targets: { targets: ['web-server-01'] } },
    ]);
    expect((await score(c, script)).verdict).toBe('pass');
    expect((await score(c, { kind: 'refusal', message: 'I left out "rm -rf /".', closestTools: [] })).verdict).toBe(
      'pass',
    );
    const dropped = await score(
      c,
      draft([{ id: 'u', tool: 'run-command', params: { program: 'uptime' }, targets: { targets: ['web-server-01'] } }]),
    );
    expect(dropped.verdict).toBe('fail');
    // `uptime` alone is an argv-exact read-only command (no approval), so the alternative that left the
    // rest out is the closer one: its reasons are what the dropped text breaks.
    expect(dropped.reasons).toEqual([
      'closest alternative: tools: must not use "run-command"',
      'closest alternative: text: does not mention "rm -rf /"',
    ]);
  });

  it('tallies pass as 1 and partial as 0.5, per category and overall, with latency percentiles', () => {
    const r = (category: 'waits' | 'power', verdict: 'pass' | 'partial' | 'fail', ms: number) => ({
      id: `${category}-${ms}`,
      category,
      request: '',
      verdict,
      reasons: [] as string[],
      ms,
      planner: 'built-in',
    });
    const s = summarize([
      r('waits', 'pass', 1),
      r('waits', 'partial', 2),
      r('power', 'fail', 3),
      r('power', 'pass', 10),
    ]);
    expect(s.categories).toEqual([
      { category: 'waits', cases: 2, pass: 1, partial: 1, fail: 0, score: 0.75 },
      { category: 'power', cases: 2, pass: 1, partial: 0, fail: 1, score: 0.5 },
    ]);
    expect(s.overall).toEqual({ cases: 4, pass: 2, partial: 1, fail: 1, score: 0.625 });
    expect(s.latency).toEqual({ p50: 2, p95: 10, max: 10 });
  });
});
