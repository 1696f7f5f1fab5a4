import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { pendingMigrations } from '@opsc/database/migrate';
import { ensureNamespace } from '@opsc/temporal/namespace';
import { BUILTIN_TOOLS_DIR, createLangChainPlanner, loadCatalog, ToolCatalogError } from '@opsc/planning';
import { createPoolLiveness } from './jobs/pool-liveness.js';
import { createApp } from './app.js';
import { loadTriggerKey } from './triggers/trigger-key.js';
import { platformServiceRules } from './platform-services.js';
import { EventStreams } from './api/event-streams.js';
import { ConfigError, parseOrchestratorEnv } from './env.js';
import { createLogger, registerSecrets, secretsOf } from '@opsc/telemetry';
import { installTemporalRuntime } from '@opsc/telemetry/runtime';
import { createMetricsServer, freeLoopbackPort, sdkMetricsOptions } from '@opsc/telemetry/metrics';
import { createOrchestratorMetrics } from './metrics/orchestrator-metrics.js';
import { startTracing } from '@opsc/telemetry/tracing';
import { TemporalConfigError, temporalConnectionOptions } from '@opsc/temporal/connection';
import { createOrchestratorWorker } from './worker.js';
import { bundleCacheDir } from './workflow-code.js';
import { Readiness } from './api/readiness.js';
import { startReconciler } from './reconcile/start-reconciler.js';
import { createToolAvailability } from './jobs/tool-availability.js';
import type { JobDeps } from './jobs/deps.js';
import { reconcileSchedules } from './schedules/reconcile-schedules.js';

const main = async (): Promise<void> => {
  const env = parseOrchestratorEnv();
  const log = createLogger('orchestrator', env.LOG_LEVEL);
  const triggerKey = loadTriggerKey(env);
  // What this process knows that no log line may hold (the logger's redaction, docs/logging.md).
  registerSecrets([...secretsOf({ urls: [env.DATABASE_URL] }), env.OPENAI_API_KEY, triggerKey?.toString('utf8')]);
  // The SDK's own chatter (bundle sizes, state changes) only when asked for; its metrics go to an
  // internal loopback port, which the metrics listener serves with ours.
  const sdkMetricsPort = env.ORCHESTRATOR_METRICS_PORT > 0 ? await freeLoopbackPort() : undefined;
  installTemporalRuntime({
    logger: log,
    level: env.TEMPORAL_LOG_LEVEL,
    ...(sdkMetricsPort && { metrics: sdkMetricsOptions(sdkMetricsPort) }),
  });
  // Off unless an OTLP endpoint is set (docs/tracing.md); first, so the client and API are traced.
  const tracing = startTracing(
    'orchestrator',
    {
      endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      tracesEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    },
    log,
  );
  // A broken tool file stops start-up, naming the file, the line and the field.
  const catalog = await loadCatalog([BUILTIN_TOOLS_DIR, ...env.OPSC_TOOLS_DIRS]).catch((err: unknown) => {
    throw err instanceof ToolCatalogError ? new ConfigError(`tool catalog: ${err.message}`) : err;
  });
  const llm = env.OPENAI_API_KEY
    ? createLangChainPlanner({
        apiKey: env.OPENAI_API_KEY,
        ...(env.OPENAI_BASE_URL && { baseURL: env.OPENAI_BASE_URL }),
        model: env.OPENAI_MODEL,
        timeoutMs: env.PLANNER_TIMEOUT_SECONDS * 1000,
        maxRepairs: env.PLANNER_MAX_REPAIRS,
        mode: env.PLANNER_LLM_MODE,
        maxTokens: env.PLANNER_LLM_MAX_TOKENS,
      })
    : undefined;
  const pool = new pg.Pool({
    connectionString: env.DATABASE_URL,
    max: 10,
    // A request that cannot get a connection is answered 503 (api/errors.ts) instead of hanging.
    connectionTimeoutMillis: env.DATABASE_POOL_WAIT_SECONDS * 1000,
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', (err) => log.warn('idle database connection lost', { error: err.message }));
  // The orchestrator's database role cannot change the schema; the stack migrates before it starts.
  const pending = await pendingMigrations(pool);
  if (pending.length > 0)
    throw new ConfigError(`the database schema is behind (pending: ${pending.join(', ')}); run \`npm run migrate\``);
  // Tools whose program no executor can run are hidden from planning, with the reason.
  const toolsUnread = (err: Error) => log.warn('could not read what the executors can run', { error: err.message });
  const tools = createToolAvailability(pool, catalog, toolsUnread);
  await tools.refresh().catch(toolsUnread);

  // The API listens first and answers health with 503 "starting" while Temporal is reached and
  // the workflow bundle is built (tens of seconds on a busy host); other routes answer 503 until then.
  const readiness = new Readiness('Temporal');
  const temporal = temporalConnectionOptions(env);
  const connection = Connection.lazy(temporal);
  const client = new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    ...(tracing.enabled && { interceptors: tracing.clientInterceptors() }),
  });
  let starting = true;
  // Stopped before the worker runs: nothing to drain, so go at once (the SDK drains a running worker).
  const stopWhileStarting = () => {
    if (!starting) return;
    log.info('stopped while starting');
    process.exit(0);
  };
  process.once('SIGINT', stopWhileStarting).once('SIGTERM', stopWhileStarting);

  const jobs: JobDeps = {
    client,
    pool,
    log,
    jobOptions: {
      heartbeatTimeoutSeconds: env.JOB_HEARTBEAT_TIMEOUT_SECONDS,
      historyEventLimit: env.JOB_HISTORY_EVENT_LIMIT,
    },
    planning: {
      get catalog() {
        return tools.catalog();
      },
      ...(llm && { llm }),
    },
    platformServices: platformServiceRules(env),
    pools: createPoolLiveness(client, pool, env.TEMPORAL_NAMESPACE, {
      freshSeconds: env.EXECUTOR_POOL_FRESH_SECONDS,
      onError: (pool, err) =>
        log.warn('could not ask Temporal whether an executor pool is served', { pool, error: (err as Error).message }),
    }),
  };
  if (env.ORCHESTRATOR_METRICS_PORT > 0) jobs.metrics = createOrchestratorMetrics({ pool, pools: jobs.pools });
  const eventStreams = new EventStreams(
    { pool, client, log, ...(jobs.pools && { pools: jobs.pools }) },
    { perUser: env.API_EVENT_STREAMS_PER_USER, total: env.API_EVENT_STREAMS_MAX },
  );
  const app = createApp({
    ...jobs,
    namespace: env.TEMPORAL_NAMESPACE,
    ...(env.TEMPORAL_UI_URL && { temporalUiUrl: env.TEMPORAL_UI_URL }),
    ...(env.OTEL_TRACE_UI_URL && { traceUiUrl: env.OTEL_TRACE_UI_URL }),
    traceRequests: tracing.enabled,
    identity: {
      signIn: {
        lockout: {
          threshold: env.SIGN_IN_LOCKOUT_THRESHOLD,
          seconds: env.SIGN_IN_LOCKOUT_SECONDS,
          maxSeconds: env.SIGN_IN_LOCKOUT_MAX_SECONDS,
        },
        source: { maxFailures: env.SIGN_IN_SOURCE_MAX_FAILURES, windowSeconds: env.SIGN_IN_SOURCE_WINDOW_SECONDS },
        maxConcurrentHashes: env.SIGN_IN_MAX_CONCURRENT_HASHES,
      },
      tokenDefaultDays: env.API_TOKEN_DEFAULT_DAYS,
    },
    allowedOrigins: env.API_ALLOWED_ORIGINS,
    artifactMaxBytes: env.ARTIFACT_MAX_BYTES,
    artifactTenantMaxBytes: env.ARTIFACT_TENANT_MAX_BYTES,
    artifactUploads: { perUser: env.ARTIFACT_UPLOADS_PER_USER, idleSeconds: env.ARTIFACT_UPLOAD_IDLE_SECONDS },
    trustProxy: env.API_TRUST_PROXY,
    eventStreams,
    readiness,
    triggers: {
      key: triggerKey,
      bodyLimitBytes: env.TRIGGER_BODY_LIMIT_BYTES,
      deliveriesPerMinute: env.TRIGGER_DELIVERIES_PER_MINUTE,
      sourceMaxFailures: env.TRIGGER_SOURCE_MAX_FAILURES,
      concurrentFires: env.TRIGGER_CONCURRENT_FIRES,
      queuedFires: env.TRIGGER_QUEUED_FIRES,
    },
    schedules: { minIntervalSeconds: env.SCHEDULE_MIN_INTERVAL_SECONDS },
  });
  const server = app.listen(env.API_PORT, env.API_HOST);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  log.info('orchestrator API listening; starting', { api: `http://${env.API_HOST}:${env.API_PORT}` });
  const metricsServer = jobs.metrics && createMetricsServer(jobs.metrics.registry, sdkMetricsPort);
  if (metricsServer) {
    metricsServer.listen(env.ORCHESTRATOR_METRICS_PORT, env.ORCHESTRATOR_METRICS_HOST);
    await new Promise<void>((resolve, reject) => metricsServer.once('listening', resolve).once('error', reject));
  }

  await connection.ensureConnected();
  await ensureNamespace(connection, env.TEMPORAL_NAMESPACE);
  const reconcile = {
    pool,
    client,
    log,
    namespace: env.TEMPORAL_NAMESPACE,
    missingGraceSeconds: env.JOB_RECONCILE_MISSING_GRACE_SECONDS,
    metrics: jobs.metrics,
  };
  const reconciler =
    env.JOB_RECONCILE_INTERVAL_SECONDS > 0 ? startReconciler(reconcile, env.JOB_RECONCILE_INTERVAL_SECONDS) : undefined;
  readiness.waitFor('the workflow worker (bundling the workflow code)');
  const workerConnection = await NativeConnection.connect(temporal);
  const worker = await createOrchestratorWorker({
    connection: workerConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    pool,
    client,
    jobs,
    ...(jobs.metrics && { metrics: jobs.metrics }),
    tracing,
    bundleCacheDir: bundleCacheDir(env.ORCHESTRATOR_WORKFLOW_BUNDLE_CACHE),
    tuning: {
      workflowTaskPollers: env.ORCHESTRATOR_WORKFLOW_TASK_POLLERS,
      maxConcurrentWorkflowTasks: env.ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: env.ORCHESTRATOR_MAX_CACHED_WORKFLOWS,
      maxConcurrentActivities: env.ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES,
      activityPollers: env.ORCHESTRATOR_ACTIVITY_POLLERS,
    },
    onProgress: (jobId, json) => eventStreams.pushed(jobId, json),
    onProgressHeld: (jobId) => eventStreams.held(jobId),
  });
  // The SDK shuts the worker down on SIGINT/SIGTERM; the API follows it.
  starting = false;
  const running = worker.run();
  readiness.ready();
  // PostgreSQL is the schedules' record: Temporal's are re-made from it (in the background; reads reconcile too).
  reconcileSchedules(jobs).catch((err: unknown) =>
    log.warn('schedules not reconciled', { error: (err as Error).message }),
  );
  log.info('orchestrator ready', {
    api: `http://${env.API_HOST}:${env.API_PORT}`,
    ...(metricsServer && {
      metrics: `http://${env.ORCHESTRATOR_METRICS_HOST}:${env.ORCHESTRATOR_METRICS_PORT}/metrics`,
    }),
    temporal: `${env.TEMPORAL_ADDRESS}${temporal.tls ? (temporal.tls.clientCertPair ? ' (mTLS)' : ' (TLS)') : ''}`,
    namespace: env.TEMPORAL_NAMESPACE,
    tools: tools.catalog().size,
    planner: llm
      ? `langchain (${env.OPENAI_MODEL}${env.OPENAI_BASE_URL ? ` at ${env.OPENAI_BASE_URL}` : ''}), built-in as fallback`
      : 'built-in',
  });

  await running;
  log.info('worker stopped, closing the API');
  await reconciler?.stop();
  tools.stop();
  server.closeAllConnections();
  metricsServer?.closeAllConnections();
  await Promise.all([
    new Promise((resolve) => server.close(resolve)),
    metricsServer && new Promise((resolve) => metricsServer.close(resolve)),
  ]);
  await Promise.all([pool.end(), connection.close(), workerConnection.close()]);
  await tracing.shutdown();
};

main().catch((err: unknown) => {
  // A configuration the operator must fix is said in plain words; anything else is a log line
  // (redacted, its stack included) like the rest.
  if (err instanceof ConfigError || err instanceof TemporalConfigError) process.stderr.write(`${err.message}\n`);
  else
    createLogger('orchestrator', 'error', { write: (line) => process.stderr.write(line) }).error(
      'stopped by an error',
      {
        error: err,
        stack: (err as Error).stack,
      },
    );
  process.exit(1);
});
