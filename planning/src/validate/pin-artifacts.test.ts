import { beforeAll, describe, expect, it } from 'vitest';
import { planHash } from '@opsc/contracts/plan-hash';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import { validatePlan, type PlanningContext } from './validate-plan.js';
import type { ArtifactLookup } from './pin-artifacts.js';
import { resolvedTarget } from './resolved-target.test-support.js';

const target = resolvedTarget;
const mixed = [target('l1', 'linux'), target('l2', 'linux')];
const V1 = '1'.repeat(64);
const V2 = '2'.repeat(64);

/** A store holding two uploads of app.bin, V2 the newest. */
const store: ArtifactLookup = async (name, sha256) => {
  if (name !== 'app.bin') return null;
  if (sha256 === undefined) return { sha256: V2 };
  return sha256 === V1 || sha256 === V2 ? { sha256 } : null;
};

let catalog: ToolCatalog;
const ctx = (artifacts?: ArtifactLookup): PlanningContext => ({
  catalog,
  resolveTargets: async () => mixed,
  ...(artifacts && { artifacts }),
});
const copy = (params: Record<string, unknown>) => ({
  name: 'copy',
  steps: [
    { id: 'copy', tool: 'file-copy', params: { destination: '/opt/app.bin', ...params }, targets: { group: 'Mixed' } },
  ],
});
const pins = (plan: { steps: { action: unknown }[] } | null) =>
  plan?.steps.map((s) => (s.action as { operation: { sha256?: string } }).operation.sha256);

beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});

describe('pinning artifacts', () => {
  it("pins the newest upload's SHA-256 into the copy's operation, its tool parameters and the draft, inside the plan hash", async () => {
    const v = await validatePlan(copy({ source: 'app.bin', destination: '/opt/app.bin' }), ctx(store));
    expect(v.status).toBe('ready');
    expect(pins(v.plan)).toEqual([V2]);
    expect(v.plan?.steps.map((s) => s.tool?.params.sha256)).toEqual([V2]);
    expect(v.draft?.steps[0]?.params.sha256).toBe(V2);
    expect(v.planHash).toBe(planHash(v.plan!));
    // The draft it answers validates to the same plan: submitting it later copies the same bytes.
    const again = await validatePlan(
      v.draft,
      ctx(async (name, sha) => (sha ? store(name, sha) : { sha256: '3'.repeat(64) })),
    );
    expect(again.planHash).toBe(v.planHash);
  });

  it('keeps a pin the draft names when that version was uploaded, and refuses one that was not', async () => {
    expect(pins((await validatePlan(copy({ source: 'app.bin', sha256: V1 }), ctx(store))).plan)).toEqual([V1]);
    const wrong = await validatePlan(copy({ source: 'app.bin', sha256: 'f'.repeat(64) }), ctx(store));
    expect(wrong.status).toBe('invalid');
    expect(wrong.issues).toEqual([
      { path: 'steps.0.params.sha256', message: `no upload of artifact app.bin has SHA-256 ${'f'.repeat(64)}` },
    ]);
  });

  it('names the source when nothing was uploaded under it; without a store (offline evaluation) it pins nothing', async () => {
    const missing = await validatePlan(copy({ source: 'other.bin' }), ctx(store));
    expect(missing.issues.map((i) => i.path)).toEqual(['steps.0.params.source']);
    expect(missing.issues[0]?.message).toMatch(/no artifact named other.bin is uploaded/);
    const offline = await validatePlan(copy({ source: 'other.bin' }), ctx());
    expect(offline.status).toBe('ready');
    expect(pins(offline.plan)).toEqual([undefined]);
  });
});
