import { z } from 'zod';

/** The orchestrator's configuration. It has no vault key and no execution settings, by design. */
export const OrchestratorEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Temporal Web UI base URL, for links in API answers. */
  TEMPORAL_UI_URL: z.url().optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' }),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(1).max(65_535).default(3005),
  /** An execution activity silent for this long is retried on another executor. */
  JOB_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(600).default(30),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});
export type OrchestratorEnv = z.infer<typeof OrchestratorEnv>;

export class ConfigError extends Error {}

/** Parses the environment once at boot; a bad value stops the process, naming the variable. */
export const parseOrchestratorEnv = (env: NodeJS.ProcessEnv = process.env): OrchestratorEnv => {
  const parsed = OrchestratorEnv.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`invalid orchestrator configuration:\n${lines.join('\n')}`);
};
