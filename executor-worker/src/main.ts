import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogContextInterceptor, createLogger, registerSecrets, type Level } from '@opsc/telemetry';
import { installTemporalRuntime } from '@opsc/telemetry/runtime';
import pg from 'pg';
import { DEFAULT_POOL, TaskQueue, executorQueue } from '@opsc/contracts';
import { mkdirSync } from 'node:fs';
import {
  createDatabaseExecution,
  createEgressGuard,
  createJobGate,
  createExecutionActivities,
  createNotificationExecution,
  createRedactor,
  createSandbox,
  executorSecrets,
  platformServices,
  tenantEgressRules,
  createPgOutputLineSink,
  createPgOutputStore,
  artifactCacheDir,
  createArtifactSource,
  DEFAULT_ARTIFACT_CACHE,
  createSshExecution,
  createWinrmExecution,
  discardOutputLines,
  createLookupCache,
  createOutageWait,
  createResultOutbox,
  withLookupCache,
} from '@opsc/activities/execution';
import { publishVaultKey } from '@opsc/activities/vault';
import { egressRules } from '@opsc/contracts';
import { activityPollers, ConfigError, parseExecutorEnv } from './env.js';
import { loadVaultKeys } from './vault-config.js';
import { platformRuleTexts, sandboxSettings } from './sandbox-config.js';
import { TemporalConfigError, temporalConnectionOptions } from '@opsc/temporal/connection';
import { createHealthServer } from './health-server.js';
import { poolTenantIds } from './pool-tenants.js';
import { createExecutorMetrics } from './metrics.js';
import { freeLoopbackPort, sdkMetricsOptions } from '@opsc/telemetry/metrics';
import { startProgramReports } from './program-report.js';
import { startTracing } from '@opsc/telemetry/tracing';

const main = async (): Promise<void> => {
  const env = parseExecutorEnv();
  const logger = createLogger('executor-worker', env.LOG_LEVEL);
  const log = (msg: string, fields: Record<string, unknown> = {}, level: string = 'info') =>
    logger[(['debug', 'info', 'warn', 'error'].includes(level) ? level : 'info') as Level](msg, fields);
  // Off unless an OTLP endpoint is set (docs/tracing.md).
  const tracing = startTracing(
    'executor-worker',
    {
      endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      tracesEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    },
    logger,
  );
  const { keyring, pems } = loadVaultKeys(env);
  // Parsed once; nothing the executor starts may inherit them, even by accident.
  delete process.env.OPSC_VAULT_KEY;
  delete process.env.DATABASE_URL;
  const secrets = executorSecrets({ vaultPems: pems, databaseUrl: env.DATABASE_URL });
  // The same secrets are blanked in every log line (the logger's redaction, docs/logging.md).
  registerSecrets(secrets);
  const redact = createRedactor(secrets);
  try {
    mkdirSync(env.EXECUTOR_ARTIFACT_DIR, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new ConfigError(
      `EXECUTOR_ARTIFACT_DIR: cannot create ${env.EXECUTOR_ARTIFACT_DIR} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  // The SDK's metrics go to an internal loopback port; /metrics on the health port serves them with ours.
  const sdkMetricsPort = await freeLoopbackPort();
  installTemporalRuntime({
    logger,
    level: env.TEMPORAL_LOG_LEVEL,
    metrics: sdkMetricsOptions(sdkMetricsPort),
  });
  // A database that does not answer a connection is treated as away (see outage/), not waited on forever.
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 20, connectionTimeoutMillis: 10_000 });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', (err) => log('idle database connection lost', { error: err.message }, 'warn'));
  const published = await publishVaultKey(pool, keyring);
  if (published === 'foreign')
    log("the published vault key is not in this executor's keyring: it cannot open secrets sealed since", {}, 'warn');
  const outageWait = createOutageWait(log);
  const outbox = createResultOutbox(createPgOutputStore(pool), {
    maxRecords: env.EXECUTOR_RESULT_OUTBOX_MAX_RECORDS,
    maxBytes: env.EXECUTOR_RESULT_OUTBOX_MAX_BYTES,
    log,
  });
  const lookups = createLookupCache({
    ttlMs: env.EXECUTOR_LOOKUP_CACHE_SECONDS * 1000,
    maxEntries: env.EXECUTOR_LOOKUP_CACHE_ENTRIES,
    wait: outageWait,
  });
  const artifacts = createArtifactSource(pool, artifactCacheDir(env.EXECUTOR_ARTIFACT_DIR), {
    maxBytes: env.EXECUTOR_ARTIFACT_CACHE_MAX_MB * 1024 * 1024,
    keepUsedWithinMs: DEFAULT_ARTIFACT_CACHE.keepUsedWithinMs,
  });
  const ssh = createSshExecution(
    pool,
    keyring,
    {
      artifactDir: env.EXECUTOR_ARTIFACT_DIR,
      defaultHostKeyPolicy: env.SSH_HOST_KEY_POLICY,
      maxHandshakes: env.SSH_MAX_HANDSHAKES,
      maxChannelsPerConnection: env.SSH_MAX_CHANNELS_PER_HOST,
      idleMs: env.SSH_IDLE_SECONDS * 1000,
      readyTimeoutMs: env.SSH_CONNECT_TIMEOUT_SECONDS * 1000,
      keepaliveIntervalMs: env.SSH_KEEPALIVE_SECONDS * 1000,
    },
    artifacts,
  );
  const winrm = createWinrmExecution(
    pool,
    keyring,
    {
      maxConcurrentPerHost: env.WINRM_MAX_CONCURRENT_PER_HOST,
      idleMs: env.WINRM_IDLE_SECONDS * 1000,
      connectTimeoutMs: env.WINRM_CONNECT_TIMEOUT_SECONDS * 1000,
      maxEnvelopeSize: env.WINRM_MAX_ENVELOPE_SIZE,
      operationTimeoutSeconds: env.WINRM_OPERATION_TIMEOUT_SECONDS,
    },
    artifacts,
  );
  const lines =
    env.EXECUTOR_STREAM_LINES_PER_ATTEMPT > 0
      ? createPgOutputLineSink(pool, {
          maxLinesPerAttempt: env.EXECUTOR_STREAM_LINES_PER_ATTEMPT,
          log: (msg, fields) => log(msg, fields, 'warn'),
        })
      : undefined;
  const executions = withLookupCache(
    { ssh, winrm, database: createDatabaseExecution(pool, keyring) },
    lookups,
    pool,
    keyring,
    outageWait,
  );
  const metrics = createExecutorMetrics(ssh.pool, winrm.pool, lines, { outbox, outageWait, lookups });
  const sandbox = createSandbox(sandboxSettings(env));
  const sandboxStatus = await sandbox.probe();
  if (sandboxStatus.ok) log('local commands run sandboxed', { user: sandboxStatus.user });
  else
    log(
      'the sandbox does not work: local commands will fail until it does',
      { user: sandboxStatus.user, error: sandboxStatus.error },
      'warn',
    );
  // A named pool is served for the tenants named (their ids: the pool's queues are per tenant).
  const tenantIds = await poolTenantIds(pool, env.EXECUTOR_POOL, env.EXECUTOR_POOL_TENANTS);
  const queues =
    env.EXECUTOR_POOL === DEFAULT_POOL
      ? [TaskQueue.executor]
      : tenantIds.map((id) => executorQueue(env.EXECUTOR_POOL, id));
  const programs = await startProgramReports({
    pool,
    sandbox,
    programs: env.EXECUTOR_LOCAL_COMMANDS,
    taskQueue: queues.join(','),
    executorPool: env.EXECUTOR_POOL,
    tenantIds,
    log,
  });
  const platform = platformServices(egressRules(platformRuleTexts(env)));
  const egress = createEgressGuard({ allowFor: tenantEgressRules(pool), platform });
  const activities = createExecutionActivities({
    jobGate: createJobGate(pool, {
      wait: outageWait,
      pendingFacts: outbox.pendingFacts,
      pool: env.EXECUTOR_POOL,
      ...(env.EXECUTOR_POOL !== DEFAULT_POOL && { tenants: tenantIds }),
    }),
    store: outbox,
    lines: lines ?? discardOutputLines,
    limits: { resultCapBytes: env.EXECUTOR_RESULT_CAP_BYTES, storeCapBytes: env.EXECUTOR_STORE_CAP_BYTES },
    allowedLocalCommands: new Set(env.EXECUTOR_LOCAL_COMMANDS),
    sandbox,
    egress,
    redact,
    notifications: createNotificationExecution(pool, keyring, platform),
    ...executions,
  });
  // Notifications leave from the default pool only: a site's executor sends nothing from its network.
  const served =
    env.EXECUTOR_POOL === DEFAULT_POOL
      ? activities
      : Object.fromEntries(Object.entries(activities).filter(([name]) => name !== 'deliverNotification'));
  const connection = await NativeConnection.connect(temporalConnectionOptions(env));
  // One worker per queue (the default pool's, or the named pool's of each tenant), on one connection.
  const workers = await Promise.all(
    queues.map((taskQueue) =>
      Worker.create({
        connection,
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue,
        activities: served,
        maxConcurrentActivityTaskExecutions: env.EXECUTOR_MAX_CONCURRENT_ACTIVITIES,
        activityTaskPollerBehavior: activityPollers(env),
        // Past its grace time the SDK cancels running activities, and a cancelled change is stopped on
        // its target (its process group killed), so a retry would run it again. This executor hands them
        // back at EXECUTOR_SHUTDOWN_GRACE_SECONDS instead (below), before the SDK's grace ends.
        shutdownGraceTime: `${env.EXECUTOR_SHUTDOWN_GRACE_SECONDS + env.EXECUTOR_RESULT_OUTBOX_FLUSH_SECONDS + 60}s`,
        interceptors: {
          activity: [...tracing.activityInterceptors(), createLogContextInterceptor(logger), metrics.interceptor],
        },
      }),
    ),
  );
  // SIGTERM (or SIGINT): the SDK stops polling; running activities get EXECUTOR_SHUTDOWN_GRACE_SECONDS
  // to finish, /health answering 503 "stopping" meanwhile. Those still running then are handed back:
  // the executor exits as a dead one would (its results saved first), their changes go on on the
  // targets (detached, under their run markers), and Temporal retries them on another executor
  // once their heartbeat times out, which attaches to the run or reports its marker.
  let stoppingSince: number | undefined;
  let handBack: () => void = () => undefined;
  const graceOver = new Promise<'grace over'>((resolve) => {
    handBack = () => resolve('grace over');
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      if (stoppingSince !== undefined) return;
      stoppingSince = Date.now();
      log('stopping: no new steps; running steps get the grace time to finish', {
        signal,
        graceSeconds: env.EXECUTOR_SHUTDOWN_GRACE_SECONDS,
      });
      setTimeout(handBack, env.EXECUTOR_SHUTDOWN_GRACE_SECONDS * 1000).unref();
    });
  const health = createHealthServer({
    registry: metrics.registry,
    sdkMetricsPort,
    stopping: () =>
      stoppingSince !== undefined ||
      workers.some((w) => ['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED'].includes(w.getState())),
    checks: {
      worker: async () => {
        const down = workers.find((w) => w.getState() !== 'RUNNING');
        if (down) throw new Error(`worker is ${down.getState()}`);
      },
      postgres: async () => {
        await pool.query('SELECT 1');
      },
    },
    advisory: {
      // Checked again when the last check is over 30 s old (a health poll must not start a sandbox each time).
      sandbox: async () => {
        const last = sandbox.status();
        const status = Date.now() - Date.parse(last.checkedAt) > 30_000 ? await sandbox.probe() : last;
        if (!status.ok) throw Object.assign(new Error(status.error ?? 'unusable'), { details: { user: status.user } });
        return { user: status.user };
      },
      // What the last check of the allowed programs found (every few minutes); any not usable is named.
      localPrograms: async () => {
        const unusable = Object.entries(programs.latest()).flatMap(([name, c]) =>
          c.ok ? [] : [`${name}: ${c.reason}`],
        );
        if (unusable.length)
          throw Object.assign(new Error(unusable.join('; ')), { details: { unusable: unusable.length } });
        return { programs: Object.keys(programs.latest()).length };
      },
    },
  });
  health.listen(env.EXECUTOR_HEALTH_PORT, env.EXECUTOR_HEALTH_HOST);
  await new Promise<void>((resolve, reject) => health.once('listening', resolve).once('error', reject));
  log('executor ready', {
    vaultKey: keyring.current.keyId,
    health: `http://${env.EXECUTOR_HEALTH_HOST}:${env.EXECUTOR_HEALTH_PORT}/health`,
    namespace: env.TEMPORAL_NAMESPACE,
    pool: env.EXECUTOR_POOL,
    ...(tenantIds.length && { tenants: env.EXECUTOR_POOL_TENANTS }),
  });

  const ended = await Promise.race([
    Promise.all(workers.map((w) => w.run())).then(() => 'drained' as const),
    graceOver,
  ]);
  if (stoppingSince !== undefined)
    log(ended === 'drained' ? 'running steps ended' : 'grace time over: handing back the steps still running', {
      afterMs: Date.now() - stoppingSince,
      ...(ended === 'drained' ? {} : { running: workers.reduce((n, w) => n + w.getStatus().numInFlightActivities, 0) }),
    });
  programs.stop();
  health.closeAllConnections();
  await new Promise((resolve) => health.close(resolve));
  if (ended === 'drained') {
    await ssh.pool.close();
    winrm.pool.close();
  }
  await lines?.close();
  await outbox.close(env.EXECUTOR_RESULT_OUTBOX_FLUSH_SECONDS * 1000);
  if (ended === 'drained') await Promise.all([pool.end(), connection.close()]);
  await tracing.shutdown();
  log(ended === 'drained' ? 'executor stopped' : 'executor stopped; steps handed back');
  // Handing back: what is still running (its connections, the worker) ends with the process.
  if (ended !== 'drained') process.exit(0);
};

main().catch((err: unknown) => {
  // A configuration the operator must fix is said in plain words; anything else is a log line
  // (redacted, its stack included) like the rest.
  if (err instanceof ConfigError || err instanceof TemporalConfigError) process.stderr.write(`${err.message}\n`);
  else
    createLogger('executor-worker', 'error', { write: (line) => process.stderr.write(line) }).error(
      'stopped by an error',
      {
        error: err,
        stack: (err as Error).stack,
      },
    );
  process.exit(1);
});
