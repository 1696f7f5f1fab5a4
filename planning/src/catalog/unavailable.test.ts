import { describe, expect, it } from 'vitest';
import { validatePlan } from '../validate/validate-plan.js';
import { proposePlan } from '../propose.js';
import { BUILTIN_TOOLS_DIR, loadCatalog, localProgramOf } from './index.js';

const WHY = 'traceroute is not installed on the executor (Debian: apt-get install traceroute)';

describe('a catalog view without the tools no executor can run', () => {
  it('hides them from planners and says why', async () => {
    const full = await loadCatalog([BUILTIN_TOOLS_DIR]);
    const view = full.withUnavailable(
      new Map([
        ['traceroute', WHY],
        ['not-a-tool', 'ignored'],
      ]),
    );
    expect(localProgramOf(full.get('traceroute')!)).toBe('traceroute');
    expect(localProgramOf(full.get('service-stop')!)).toBeNull();
    expect(view.get('traceroute')).toBeUndefined();
    expect(view.all().map((t) => t.name)).not.toContain('traceroute');
    expect(view.summaries().map((t) => t.name)).not.toContain('traceroute');
    expect(view.size).toBe(full.size - 1);
    expect(view.unavailable('traceroute')).toBe(WHY);
    expect(view.unavailableTools()).toEqual([{ name: 'traceroute', reason: WHY }]);
    expect(view.unavailableFor('please traceroute to example.org')).toEqual([{ name: 'traceroute', reason: WHY }]);
    expect(view.unavailableFor('restart nginx')).toEqual([]);
    // A new view replaces the hidden set; the full catalog is untouched.
    expect(view.withUnavailable(new Map()).get('traceroute')).toBeDefined();
    expect(full.get('traceroute')).toBeDefined();
  });

  it('refuses a plan that names a hidden tool with the reason, and answers a request for it with the reason', async () => {
    const view = (await loadCatalog([BUILTIN_TOOLS_DIR])).withUnavailable(new Map([['traceroute', WHY]]));
    const draft = {
      name: 'trace',
      steps: [{ id: 't', name: 'Trace', tool: 'traceroute', params: { host: 'example.org' } }],
    };
    const v = await validatePlan(draft, { catalog: view, resolveTargets: () => Promise.resolve([]) });
    expect(v.issues).toEqual([{ path: 'steps.0.tool', message: `traceroute is not available: ${WHY}` }]);
    const answer = await proposePlan('traceroute to example.org', {
      catalog: view,
      inventory: () => Promise.resolve({ groups: [], targets: [] }),
      resolveTargets: () => Promise.resolve([]),
    });
    expect(answer.plan).toBeNull();
    expect(answer.text).toContain(`traceroute is not available: ${WHY}`);
  });
});
