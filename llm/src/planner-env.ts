import type { RunningLocalLlm } from './local-server.js';

/**
 * The orchestrator's settings that point its LLM planner at a running local server: structured output
 * (a 1.5B model does not honour `tool_choice`), and time for a model on a few CPU cores (a first plan
 * reads the whole prompt, about 40 s on 2 cores; later ones reuse the server's prompt cache).
 */
export const plannerEnv = (llm: RunningLocalLlm, timeoutSeconds = 120): Record<string, string> => ({
  OPENAI_API_KEY: llm.apiKey,
  OPENAI_BASE_URL: llm.baseUrl,
  OPENAI_MODEL: llm.model,
  PLANNER_LLM_MODE: 'json-schema',
  PLANNER_TIMEOUT_SECONDS: String(timeoutSeconds),
});
