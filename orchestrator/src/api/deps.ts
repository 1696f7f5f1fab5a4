import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { EgressRule, JobOptions } from '@opsc/contracts';
import type { Planner, ToolCatalog } from '@opsc/activities/planning';
import type { SignInPolicy } from '../identity/sign-in.js';
import type { Logger } from '../log.js';

export interface ApiDeps {
  client: Client;
  pool: pg.Pool;
  log: Logger;
  namespace: string;
  jobOptions: JobOptions;
  temporalUiUrl?: string;
  planning: { catalog: ToolCatalog; llm?: Planner };
  /** The platform's own services (Temporal, the database, this API): no plan may name them. */
  platformServices: EgressRule[];
  /** Sign-in limits and the expiry of tokens created without one. */
  identity: { signIn: SignInPolicy; tokenDefaultDays: number };
}
