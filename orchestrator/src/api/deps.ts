import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { EgressRule, JobOptions } from '@opsc/contracts';
import type { Planner, ToolCatalog } from '@opsc/planning';
import type { SignInPolicy } from '../identity/sign-in.js';
import type { Logger } from '@opsc/telemetry';
import type { EventStreams } from './event-streams.js';
import type { Readiness } from './readiness.js';
import type { OrchestratorMetrics } from '../metrics/orchestrator-metrics.js';

export interface ApiDeps {
  client: Client;
  pool: pg.Pool;
  log: Logger;
  namespace: string;
  jobOptions: JobOptions;
  temporalUiUrl?: string;
  /** A trace viewer's page, `{traceId}` standing for the id (`OTEL_TRACE_UI_URL`): the jobs' trace links. */
  traceUiUrl?: string;
  /** Tracing is on: each API request gets its span (docs/tracing.md). */
  traceRequests?: boolean;
  planning: { catalog: ToolCatalog; llm?: Planner };
  /** The platform's own services (Temporal, the database, this API): no plan may name them. */
  platformServices: EgressRule[];
  /** Sign-in limits and the expiry of tokens created without one. */
  identity: { signIn: SignInPolicy; tokenDefaultDays: number };
  /** Origins besides the API's own from which a cookie-signed-in browser may change things (the web app's). */
  allowedOrigins: readonly string[];
  /** Proxies whose X-Forwarded-For is believed (express's "trust proxy"). */
  trustProxy: string;
  /** The largest artifact upload taken, in bytes (`ARTIFACT_MAX_BYTES`). */
  artifactMaxBytes: number;
  /** The bytes one tenant's artifacts may take together (`ARTIFACT_TENANT_MAX_BYTES`). */
  artifactTenantMaxBytes: number;
  /** Uploads one user may have in flight, and the seconds a body may send nothing before it is ended (408). */
  artifactUploads?: { perUser: number; idleSeconds: number };
  /** Live job event streams: one shared subscription per job, capped per user and per process. */
  eventStreams: EventStreams;
  /** Start-up's progress: health says what it waits for, other routes answer 503 until ready. */
  readiness: Readiness;
  /** Triggers: the key generic secrets derive from (absent: none can be made), the body limit, rate limits. */
  triggers: TriggerSettings;
  /** Schedules: the shortest interval allowed (`SCHEDULE_MIN_INTERVAL_SECONDS`). */
  schedules: { minIntervalSeconds: number };
  /** The product's metrics (API latency, planner latency); served on their own listener, not here. */
  metrics?: OrchestratorMetrics;
}

export interface TriggerSettings {
  key: Buffer | undefined;
  bodyLimitBytes: number;
  deliveriesPerMinute: number;
  sourceMaxFailures: number;
  /** Deliveries fired at once in this process, and how many more wait their turn (fire-gate.ts). */
  concurrentFires?: number;
  queuedFires?: number;
}
