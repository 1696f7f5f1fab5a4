import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '@opsc/database';
import { prepareDatabase } from './prepare-database.js';
import { ensureVaultKeyFile } from './vault-key.js';
import { ensureTriggerKeyFile } from './trigger-key.js';
import { ensureTemporalBinary, startDevServer, type RunningDevServer } from '@opsc/temporal';
import { platformEgressDeny } from './platform-deny.js';
import { DATA_DIR, EMBEDDED_PG_DIR, EXECUTOR_MAIN, ORCHESTRATOR_MAIN, embeddedPgPort } from './paths.js';
import { startService, waitForHttpOk, type ServiceProcess } from './service-process.js';
import { superviseService, type Supervisor } from './supervise-service.js';
import { startWeb } from './web-process.js';
import { plannerEnv, startLocalLlm, type RunningLocalLlm } from '@opsc/llm';
import { createDemo, type Demo } from './demo/start-demo.js';

/**
 * `npm run up`: Temporal dev server + PostgreSQL (embedded unless configured) + orchestrator +
 * executor + web app, in the foreground. A service that crashes is restarted with backoff; one that
 * keeps crashing at start stops the stack. Ctrl-C (or SIGTERM) stops everything in reverse order.
 * State lives in `.data/` (OPSC_DATA_DIR). `--demo` (`npm run demo`) also starts small SSH and WinRM
 * fleets shaped like the seeds, with inventory, two users and a sample artifact (dev/src/demo/).
 */
const env = process.env;
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);

const isLoopbackName = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
/** Where a browser finds the web app: its loopback names, and the host it listens on when that is a real name. */
const webOrigins = (host: string, webPort: number): string[] => {
  const origins = [`http://127.0.0.1:${webPort}`, `http://localhost:${webPort}`];
  if (!isLoopbackName(host) && host !== '0.0.0.0' && host !== '::')
    origins.push(`http://${host.includes(':') ? `[${host}]` : host}:${webPort}`);
  return origins;
};

const say = (msg: string) => process.stdout.write(`[up] ${msg}\n`);
// A service's JSON line (docs/logging.md) passes through as it is: it names its service itself.
// Other lines (a crash's stack, a child's plain text) get the name in front.
const prefix = (name: string) => (line: string) =>
  process.stdout.write(line.startsWith('{"at":') ? `${line}\n` : `[${name}] ${line}\n`);

const main = async () => {
  const started = Date.now();
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--demo');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}: the only one is --demo`);
  const demo = process.argv.includes('--demo');
  const stack: {
    temporal?: RunningDevServer;
    postgres?: RunningPostgres;
    llm?: RunningLocalLlm;
    services: Supervisor[];
    demo?: Demo;
  } = { services: [] };
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await stack.demo?.stop();
    for (const service of [...stack.services].reverse()) await service.stop();
    await stack.llm?.stop();
    await stack.temporal?.stop();
    await stack.postgres?.stop();
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  mkdirSync(DATA_DIR, { recursive: true, mode: 0o700 });
  const supervise = (name: string, start: () => ServiceProcess): Supervisor =>
    superviseService({
      name,
      start,
      say,
      onGiveUp: (reason) => {
        say(`stopping the stack: ${reason}. Its log lines above say why.`);
        void shutdown(1);
      },
    });

  let temporalAddress = env.TEMPORAL_ADDRESS;
  let temporalUi = env.TEMPORAL_UI_URL;
  const namespace = env.TEMPORAL_NAMESPACE ?? 'default';
  if (!temporalAddress) {
    const binary = ensureTemporalBinary();
    say(`starting Temporal dev server (${binary})`);
    stack.temporal = await startDevServer({
      binary,
      dbFile: path.join(DATA_DIR, 'temporal', 'temporal.db'),
      port: port('TEMPORAL_PORT', 7233),
      uiPort: port('TEMPORAL_UI_PORT', 8233),
      namespace,
      logFile: path.join(DATA_DIR, 'logs', 'temporal.log'),
    });
    temporalAddress = stack.temporal.address;
    temporalUi = stack.temporal.uiUrl ?? undefined;
  }
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    say('starting embedded PostgreSQL');
    stack.postgres = await startEmbeddedPostgres({ dataDir: EMBEDDED_PG_DIR, port: embeddedPgPort() });
    databaseUrl = stack.postgres.url;
  }
  // OPSC_LLM=local: the planner asks llama.cpp with a small local model (built and fetched once, cached).
  if (env.OPSC_LLM === 'local') {
    say('starting the local LLM (llama-server; a first run builds it and fetches the model, minutes)');
    stack.llm = await startLocalLlm({
      port: port('OPSC_LLM_PORT', 8091),
      logFile: path.join(DATA_DIR, 'logs', 'llm.log'),
    });
    say(`llm started (pid ${stack.llm.pid}), model loaded in ${stack.llm.loadSeconds.toFixed(1)} s`);
  } else if (env.OPSC_LLM && env.OPSC_LLM !== 'none')
    throw new Error(`OPSC_LLM must be "local" or "none", not ${JSON.stringify(env.OPSC_LLM)}`);
  const urls = await prepareDatabase(databaseUrl, path.join(DATA_DIR, 'service-roles.json'));
  say(`database migrated${urls.applied.length ? ` (${urls.applied.join(', ')})` : ''}; services use their own roles`);
  // The vault key goes to the executor alone, never to the orchestrator, even if it is in our environment.
  const { OPSC_VAULT_KEY, OPSC_VAULT_KEY_FILE, ...withoutVault } = env;
  const vault = OPSC_VAULT_KEY
    ? { OPSC_VAULT_KEY }
    : { OPSC_VAULT_KEY_FILE: OPSC_VAULT_KEY_FILE ?? ensureVaultKeyFile(path.join(DATA_DIR, 'vault')) };
  const common = { ...withoutVault, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace };
  const apiPort = port('API_PORT', 3005);
  const metricsPort = port('ORCHESTRATOR_METRICS_PORT', 9464);
  const webPort = port('WEB_PORT', 3000);
  const webHost = env.WEB_HOST ?? '127.0.0.1';
  // The API takes cookie-signed-in changes only from the web app's origin, the one people open.
  const allowedOrigins = env.API_ALLOWED_ORIGINS ?? webOrigins(webHost, webPort).join(',');
  if (!env.API_ALLOWED_ORIGINS && (webHost === '0.0.0.0' || webHost === '::'))
    say(
      `the web app listens on ${webHost}: set API_ALLOWED_ORIGINS to the address people open it at (now ${allowedOrigins})`,
    );
  const orchestrator = supervise('orchestrator', () =>
    startService({
      name: 'orchestrator',
      script: ORCHESTRATOR_MAIN,
      env: {
        ...common,
        DATABASE_URL: urls.orchestrator,
        API_ALLOWED_ORIGINS: allowedOrigins,
        // Generic triggers' secrets derive from this key; the orchestrator alone has it.
        ...(!env.OPSC_TRIGGER_KEY && {
          OPSC_TRIGGER_KEY_FILE: env.OPSC_TRIGGER_KEY_FILE ?? ensureTriggerKeyFile(path.join(DATA_DIR, 'orchestrator')),
        }),
        ...(stack.llm && plannerEnv(stack.llm, Number(env.PLANNER_TIMEOUT_SECONDS ?? 120))),
        ...(temporalUi && { TEMPORAL_UI_URL: temporalUi }),
      },
      onLine: prefix('orchestrator'),
    }),
  );
  // No step may reach the platform itself. The executor refuses Temporal, PostgreSQL and its own
  // health port by itself; it is told the API, the web app, the Temporal UI and the embedded
  // Temporal's HTTP API and metrics here.
  const egressDeny = platformEgressDeny({
    extra: env.EXECUTOR_EGRESS_DENY,
    apiPort,
    metricsPort,
    webPort,
    temporalUiUrl: temporalUi,
    temporal: stack.temporal,
    llmPort: stack.llm && port('OPSC_LLM_PORT', 8091),
  });
  const artifactDir = env.EXECUTOR_ARTIFACT_DIR ?? path.join(DATA_DIR, 'artifacts');
  const executor = supervise('executor', () =>
    startService({
      name: 'executor',
      script: EXECUTOR_MAIN,
      env: {
        EXECUTOR_ARTIFACT_DIR: artifactDir,
        ...common,
        DATABASE_URL: urls.executor,
        EXECUTOR_EGRESS_DENY: egressDeny,
        ...vault,
      },
      onLine: prefix('executor'),
    }),
  );
  const web = supervise('web', () =>
    startWeb({
      port: webPort,
      host: webHost,
      apiUrl: env.OPSC_API_URL ?? `http://127.0.0.1:${apiPort}`,
      onLine: prefix('web'),
    }),
  );
  stack.services.push(executor, orchestrator, web);
  // A service that crashes meanwhile is restarted, one that keeps crashing too (at the backoff's cap).
  const healthPort = port('EXECUTOR_HEALTH_PORT', 8010);
  await Promise.all([
    waitForHttpOk(`http://127.0.0.1:${apiPort}/api/health`, 120_000),
    waitForHttpOk(`http://127.0.0.1:${healthPort}/health`, 120_000),
    waitForHttpOk(`http://127.0.0.1:${webPort}/login`, 120_000),
  ]);
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  say(
    `  Web app        http://127.0.0.1:${webPort}   ${demo ? '(the demo users: below)' : '(first admin: npm run create-admin -- --tenant acme --username alice --password-stdin)'}`,
  );
  say(`  API            http://127.0.0.1:${apiPort}/api   (health: /api/health)`);
  if (metricsPort > 0) say(`  Metrics        http://127.0.0.1:${metricsPort}/metrics (orchestrator)`);
  say(
    `  Temporal       ${temporalAddress}   namespace ${namespace}   ${stack.temporal ? `(embedded dev server, data in ${path.join(DATA_DIR, 'temporal')}, log ${path.join(DATA_DIR, 'logs', 'temporal.log')})` : '(from TEMPORAL_ADDRESS)'}`,
  );
  if (temporalUi) say(`  Temporal UI    ${temporalUi}`);
  say(`  Executor       http://127.0.0.1:${healthPort}/health   metrics: /metrics`);
  say(
    `  PostgreSQL     ${stack.postgres ? `embedded on 127.0.0.1:${embeddedPgPort()}, data in .data/postgres` : 'from DATABASE_URL'}`,
  );
  if (stack.llm)
    say(`  Local LLM      ${stack.llm.baseUrl}   model ${stack.llm.model} (the planner's; log: .data/logs/llm.log)`);
  say(
    `  Planner        ${stack.llm ? 'the local LLM above' : env.OPENAI_API_KEY || env.OPENAI_BASE_URL ? 'an LLM from OPENAI_BASE_URL' : 'built-in (set OPENAI_API_KEY / OPENAI_BASE_URL, or OPSC_LLM=local, for an LLM)'}`,
  );
  say(`  Logs           the services print here, prefixed by name; data in ${DATA_DIR} (OPSC_DATA_DIR)`);
  say('A crashed service restarts by itself; Ctrl-C stops everything.');
  if (!demo) return;
  stack.demo = createDemo({
    apiUrl: `http://127.0.0.1:${apiPort}`,
    webUrl: `http://127.0.0.1:${webPort}`,
    temporalUi,
    orchestratorDatabaseUrl: urls.orchestrator,
    dir: path.join(DATA_DIR, 'demo'),
    say: prefix('demo'),
  });
  await stack.demo.start().catch((err: unknown) => {
    say(`the demo failed: ${(err as Error).message}`);
    void shutdown(1);
  });
};

main().catch((err: unknown) => {
  process.stderr.write(`[up] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
