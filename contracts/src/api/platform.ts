import { z } from 'zod';
import { Timestamp } from './common.js';

// The tenant's egress allow list (`PUT` takes `EgressAllowList`).

/** `GET /api/tenant/egress` (and the answer to `PUT`). */
export const EgressAllowListView = z.object({
  allow: z.array(
    z.object({ destination: z.string(), note: z.string().nullable(), addedBy: z.string(), addedAt: Timestamp }),
  ),
});
export type EgressAllowListView = z.infer<typeof EgressAllowListView>;

// Health.

const Check = z.object({ ok: z.boolean(), latencyMs: z.number().int(), error: z.string().optional() });

/** `GET /api/health` while the process starts (503). */
export const HealthStarting = z.object({
  status: z.literal('starting'),
  waitingFor: z.string(),
  startingSeconds: z.number().int(),
});
/** `GET /api/health` once started: 200 when every check is ok, else 503 `degraded`. */
export const HealthReport = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.object({ temporal: Check, postgres: Check }),
  /** The live event streams and the job subscriptions serving them. */
  streams: z.object({
    open: z.number().int(),
    jobs: z.number().int(),
    lineReads: z.number().int(),
    progressQueries: z.number().int(),
  }),
});
export const Health = z.union([HealthStarting, HealthReport]);
export type Health = z.infer<typeof Health>;
