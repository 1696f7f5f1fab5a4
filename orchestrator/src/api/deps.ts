import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { JobOptions } from '@opsc/contracts';
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
  /** Sign-in limits and the expiry of tokens created without one. */
  identity: { signIn: SignInPolicy; tokenDefaultDays: number };
}
