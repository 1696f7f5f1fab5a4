import type { RunningDevServer } from '@opsc/temporal';

export interface PlatformServices {
  /** EXECUTOR_EGRESS_DENY as the operator set it (comma-separated), if at all. */
  extra?: string | undefined;
  apiPort: number;
  /** The orchestrator's metrics listener (ORCHESTRATOR_METRICS_PORT), when on. */
  metricsPort?: number | undefined;
  webPort: number;
  /** The Temporal Web UI of a Temporal that is not embedded (TEMPORAL_UI_URL). */
  temporalUiUrl?: string | undefined;
  /** The embedded Temporal dev server, when there is one. */
  temporal?: RunningDevServer | undefined;
  /** The local LLM server's port (`OPSC_LLM=local`), on 127.0.0.1. */
  llmPort?: number | undefined;
}

const uiRule = (url: string): string => {
  const ui = new URL(url);
  return `${ui.hostname}:${ui.port || (ui.protocol === 'https:' ? 443 : 80)}`;
};

/**
 * The platform's own services the executor is told to refuse (EXECUTOR_EGRESS_DENY), besides those
 * it knows by itself (Temporal's frontend, PostgreSQL, its own health port): the API, the web app,
 * the Temporal UI, and the embedded Temporal's HTTP API and metrics (its HTTP API is all of
 * Temporal, for every tenant). No step may reach them, whatever a tenant allows.
 */
export const platformEgressDeny = (services: PlatformServices): string => {
  const { temporal } = services;
  const ui = services.temporalUiUrl ?? temporal?.uiUrl ?? undefined;
  return [
    services.extra,
    `127.0.0.1:${services.apiPort}`,
    services.metricsPort && `127.0.0.1:${services.metricsPort}`,
    `127.0.0.1:${services.webPort}`,
    ui && uiRule(ui),
    temporal && `127.0.0.1:${temporal.httpPort}`,
    temporal && `127.0.0.1:${temporal.metricsPort}`,
    services.llmPort && `127.0.0.1:${services.llmPort}`,
  ]
    .filter(Boolean)
    .join(',');
};
