import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from '@opsc/dev';
import { startLocalLlm } from '@opsc/llm';

declare module 'vitest' {
  export interface ProvidedContext {
    llmBaseUrl: string;
    llmApiKey: string;
    llmModel: string;
    llmLoadSeconds: number;
  }
}

/** One real llama-server with the local planner model for the run (built and fetched once, cached). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const llm = await startLocalLlm({ logFile: path.join(REPO_ROOT, 'test-results', 'logs', 'llm.log') });
  project.provide('llmBaseUrl', llm.baseUrl);
  project.provide('llmApiKey', llm.apiKey);
  project.provide('llmModel', llm.model);
  project.provide('llmLoadSeconds', llm.loadSeconds);
  return () => llm.stop();
}
