import { z } from 'zod';

/** The web server's configuration, parsed once: where the orchestrator API is. Nothing else. */
export const WebEnv = z.object({
  /** The orchestrator API that the web server proxies `/api/*` to, read at the first request (one build serves any address). */
  OPSC_API_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
    .default('http://127.0.0.1:3005')
    .transform((u) => u.replace(/\/+$/, '')),
});
export type WebEnv = z.infer<typeof WebEnv>;

let parsed: WebEnv | undefined;
/** Read on first use (at request time, not at build time), so one build serves any API address. */
export const webEnv = (): WebEnv => {
  if (!parsed) {
    const result = WebEnv.safeParse(process.env);
    if (!result.success)
      throw new Error(`web config: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    parsed = result.data;
  }
  return parsed;
};
