import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { EgressRule, JobOptions } from '@opsc/contracts';
import type { Planner, ToolCatalog } from '@opsc/planning';
import type { Role } from '../identity/roles.js';
import type { Logger } from '@opsc/telemetry';
import type { PoolLiveness } from './pool-liveness.js';
import type { OrchestratorMetrics } from '../metrics/orchestrator-metrics.js';

/** What the job service works with; the API passes its own deps, a superset. */
export interface JobDeps {
  pool: pg.Pool;
  client: Client;
  log: Logger;
  /** Tunables passed into every job's workflow (heartbeat timeout, history limit). */
  jobOptions: JobOptions;
  planning: { catalog: ToolCatalog; llm?: Planner };
  /** The platform's own services (Temporal, the database, this API): no plan may name them. */
  platformServices: EgressRule[];
  /** Which executor pools have an executor polling: a job may not name targets of a quiet one. */
  pools?: PoolLiveness;
  /** The product's metrics (planner latency); absent in tests that do not look. */
  metrics?: OrchestratorMetrics;
}

/** Who asks, as the API authenticated them, and from where: decisions and the audit log record both. */
export interface Caller {
  tenantId: string;
  userId: string;
  username: string;
  role: Role;
  sourceIp: string | undefined;
}
