import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { JobOptions } from '@opsc/contracts';
import type { Planner, ToolCatalog } from '@opsc/activities/planning';
import type { Logger } from '../log.js';
import type { EventStreams } from './event-streams.js';

export interface ApiDeps {
  client: Client;
  pool: pg.Pool;
  log: Logger;
  namespace: string;
  jobOptions: JobOptions;
  temporalUiUrl?: string;
  planning: { catalog: ToolCatalog; llm?: Planner };
  /** Origins besides the API's own from which a cookie-signed-in browser may change things (the web app's). */
  allowedOrigins: readonly string[];
  /** Live job event streams: one shared subscription per job, capped per user and per process. */
  eventStreams: EventStreams;
}
