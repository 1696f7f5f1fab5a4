import { z } from 'zod';

/** `VAR=` (as compose writes `${VAR:-}`) counts as unset. */
const unsetWhenEmpty = (v: unknown) => (v === '' ? undefined : v);

/** `http(s)://host[:port]`, as a browser sends it in Origin (a trailing slash is forgiven). */
const isOrigin = (value: string): boolean =>
  URL.canParse(value) &&
  /^https?:$/.test(new URL(value).protocol) &&
  new URL(value).origin === value.replace(/\/$/, '');

/** The orchestrator's configuration. It has no vault key and no execution settings, by design. */
export const OrchestratorEnv = z.object({
  /** The Temporal frontend, host:port. */
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  /** The Temporal namespace. Created, with the search attributes, when missing. */
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /**
   * CA certificate (PEM) the Temporal frontend's certificate is checked against. Any of the three
   * TEMPORAL_TLS_*_FILE variables turns TLS on (production: mutual TLS); without them the connection is
   * plain, which only the embedded dev server on loopback should accept.
   */
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  /** This service's client certificate (PEM) for mutual TLS; goes with TEMPORAL_TLS_KEY_FILE. */
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  /** The client certificate's private key (PEM); goes with TEMPORAL_TLS_CERT_FILE. */
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  /** The name the frontend's certificate is checked against, when it is not the address's host. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** Temporal Web UI base URL, for links in API answers. */
  TEMPORAL_UI_URL: z.url().optional(),
  /**
   * Traces (docs/tracing.md): the OTLP/HTTP collector they are sent to, `/v1/traces` added. Unset
   * (with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) means no tracing at all.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(unsetWhenEmpty, z.url({ protocol: /^https?$/ }).optional()).optional(),
  /** The full OTLP/HTTP traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .preprocess(unsetWhenEmpty, z.url({ protocol: /^https?$/ }).optional())
    .optional(),
  /**
   * A trace viewer's page for one trace, `{traceId}` standing for its id (Jaeger:
   * `http://localhost:16686/trace/{traceId}`): the monitor links a job to its trace.
   */
  OTEL_TRACE_UI_URL: z
    .preprocess(
      unsetWhenEmpty,
      z
        .url({ protocol: /^https?$/ })
        .refine((v) => v.includes('{traceId}'), { message: 'must contain {traceId}' })
        .optional(),
    )
    .optional(),
  /** PostgreSQL as the `opsc_orchestrator` role (`npm run up` makes it), a postgres:// URL. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' }),
  /** Where the API listens. */
  API_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * The proxies whose X-Forwarded-For the API believes (express's "trust proxy": loopback,
   * uniquelocal, addresses, CIDRs): the web app's server. Sign-in limits and the audit log's
   * source address come from it, so it must name only proxies that write the header themselves.
   */
  API_TRUST_PROXY: z.string().min(1).default('loopback'),
  /** The API's port. */
  API_PORT: z.coerce.number().int().min(1).max(65_535).default(3005),
  /**
   * Where Prometheus scrapes `/metrics` (the product's metrics and the Temporal SDK's), a listener of
   * its own, never the API's port. 0 turns the metrics off.
   */
  ORCHESTRATOR_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  /** The metrics listener's address; loopback unless a Prometheus elsewhere scrapes it. */
  ORCHESTRATOR_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Where the workflow bundle is kept between starts, keyed by a hash of the built workflows, the
   * lockfile and the SDK (`~/` is the service user's home): bundling costs seconds of CPU at every
   * start. The folder must be the service user's alone. `off`: bundle at every start.
   */
  ORCHESTRATOR_WORKFLOW_BUNDLE_CACHE: z.string().default('~/.cache/opsconductor/workflow-bundles'),
  /**
   * Workflow task polls the orchestrator's worker keeps open (a job's workflow is one task at a time;
   * more polls serve more jobs at once). At most ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS.
   */
  ORCHESTRATOR_WORKFLOW_TASK_POLLERS: z.coerce.number().int().min(2).max(1_000).default(10),
  /** Workflow tasks (jobs' decisions) the worker runs at once. */
  ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).default(40),
  /**
   * Running workflows kept in memory (the sticky cache): a job's next decision then needs no replay of
   * its history. Past it the least recently used is dropped and replayed when it next has work.
   */
  ORCHESTRATOR_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(1_000),
  /** Bookkeeping activities (results, events, schedules) the worker runs at once. */
  ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Activity polls for that bookkeeping kept open; at most ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES. */
  ORCHESTRATOR_ACTIVITY_POLLERS: z.coerce.number().int().min(1).max(1_000).default(10),
  /** An execution activity silent for this long is retried on another executor. */
  JOB_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(600).default(30),
  /**
   * An executor pool none of whose executors asked Temporal for work, or said it runs, within this
   * long is quiet: jobs on its targets are refused, and the monitor shows its running targets as
   * waiting for it. An executor says it runs every 15 s, busy or not.
   */
  EXECUTOR_POOL_FRESH_SECONDS: z.coerce.number().int().min(30).max(3_600).default(90),
  /** A job's workflow continues as new past this many history events (Temporal's hard limit is 51,200). */
  JOB_HISTORY_EVENT_LIMIT: z.coerce.number().int().min(200).max(40_000).default(10_000),
  /**
   * Seconds between reconciliation passes (jittered by a quarter): jobs whose workflow was closed
   * from outside (terminated, timed out) get their final status. 0 turns the sweeper off.
   */
  JOB_RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  /** A job whose workflow Temporal does not know is closed by reconciliation once it is this old. */
  JOB_RECONCILE_MISSING_GRACE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** The least severe line this service writes (JSON, one object per line: docs/logging.md). */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * The least severe line of the Temporal SDK and its core written, through the same JSON logger (so
   * LOG_LEVEL filters them too): `info` adds worker state changes, `debug` every activity's start and end.
   */
  TEMPORAL_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
  /** Folders of extra tool files (*.yaml), separated by `:`, loaded after the shipped tools. */
  OPSC_TOOLS_DIRS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(':')
        .map((d) => d.trim())
        .filter(Boolean),
    ),
  /** Turns on the LLM planner (any OpenAI-compatible server); without it the built-in planner answers. */
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** The server's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama; OpenAI's when absent. */
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The model name the LLM server knows. */
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /** Seconds the LLM planner may take in all (repairs included) before the built-in planner answers. */
  PLANNER_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  /** Times an LLM plan that does not validate goes back to the model with its errors. */
  PLANNER_MAX_REPAIRS: z.coerce.number().int().min(0).max(10).default(2),
  /**
   * How the LLM planner asks for its answer: `tools` (function calling, e.g. OpenAI), `json-schema`
   * (structured output that llama.cpp and vLLM enforce with a grammar; small local models), or `auto`
   * (function calling, switching to structured output when the server or model does not do it).
   */
  PLANNER_LLM_MODE: z.enum(['auto', 'tools', 'json-schema']).default('auto'),
  /** Tokens one model reply may take before it is cut off (a rambling model is not waited for). */
  PLANNER_LLM_MAX_TOKENS: z.coerce.number().int().min(64).max(16_384).default(1_024),
  /** Failed sign-ins in a row (per tenant and user name) before the account is locked. */
  SIGN_IN_LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  /** The first lock's length; each further failure doubles it, up to the maximum. */
  SIGN_IN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** The longest lock. */
  SIGN_IN_LOCKOUT_MAX_SECONDS: z.coerce.number().int().min(1).max(604_800).default(3600),
  /** Failed sign-ins one source address (an IPv6 /64) may have per window, in this process. */
  SIGN_IN_SOURCE_MAX_FAILURES: z.coerce.number().int().min(1).max(100_000).default(20),
  /** The window in which a source's spent budget of failed sign-ins fills up again. */
  SIGN_IN_SOURCE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Password hashes (scrypt, 32 MiB each) computed at once; a sign-in past this is refused at once. One source gets half (at least one). */
  SIGN_IN_MAX_CONCURRENT_HASHES: z.coerce.number().int().min(1).max(64).default(4),
  /** The largest artifact upload the API takes (bytes; default 256 MiB). Larger ones are refused with 413. */
  ARTIFACT_MAX_BYTES: z.coerce.number().int().min(1).max(17_179_869_184).default(268_435_456),
  /** The bytes one tenant's stored artifact versions may take together (default 10 GiB). An upload past it is refused with 413. */
  ARTIFACT_TENANT_MAX_BYTES: z.coerce.number().int().min(1).max(1_099_511_627_776).default(10_737_418_240),
  /** Uploads one user may have in flight at once (each is spooled to a private temp file first); more are 429. */
  ARTIFACT_UPLOADS_PER_USER: z.coerce.number().int().min(1).max(100).default(2),
  /** Seconds an upload's body may send nothing before the upload is ended with 408 and nothing kept. */
  ARTIFACT_UPLOAD_IDLE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** The expiry of an API token created without one. */
  API_TOKEN_DEFAULT_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /**
   * Origins, besides the API's own, from which a browser signed in with the session cookie may
   * change things (comma-separated): the web app's, as people type it in the address bar.
   */
  API_ALLOWED_ORIGINS: z
    .string()
    .default('http://127.0.0.1:3000,http://localhost:3000')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine(isOrigin, { message: 'must be an origin: http(s)://host[:port], no path' }))),
  /**
   * The key generic triggers' secrets are derived from (at least 32 characters; docs/triggers.md).
   * Without it (or OPSC_TRIGGER_KEY_FILE) no generic trigger can be made or verified; Alertmanager
   * triggers need none. Changing it voids every generic trigger's secret (rotate them).
   */
  OPSC_TRIGGER_KEY: z.string().min(1).optional(),
  /** A file holding the trigger key (mode 0600); `npm run up` makes one under .data/. */
  OPSC_TRIGGER_KEY_FILE: z.string().min(1).optional(),
  /** The largest delivery body a trigger takes; larger is a 413. */
  TRIGGER_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(262_144),
  /** Authenticated deliveries one trigger takes per minute, in this process; more are 429. */
  TRIGGER_DELIVERIES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  /** Deliveries that fail to authenticate one source address may send per 5 minutes; past it, 429. */
  TRIGGER_SOURCE_MAX_FAILURES: z.coerce.number().int().min(1).max(100_000).default(30),
  /** The shortest interval a schedule may have: each action plans and records a job. */
  SCHEDULE_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /**
   * Trigger deliveries fired at once in this process. Each holds a database connection (its trigger's
   * lock) while its run takes others, so this stays well below the pool's 10 connections.
   */
  TRIGGER_CONCURRENT_FIRES: z.coerce.number().int().min(1).max(5).default(3),
  /** Deliveries that wait their turn to fire (30 s at most); past that, 503 with Retry-After (senders retry). */
  TRIGGER_QUEUED_FIRES: z.coerce.number().int().min(0).max(10_000).default(100),
  /**
   * Seconds a request waits for a free database connection before it is answered 503 (the pool
   * has 10; nothing waits forever).
   */
  DATABASE_POOL_WAIT_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  /** Live event streams (`GET /api/jobs/:id/events`) one user may hold open at once; more are 429. */
  API_EVENT_STREAMS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Live event streams the process serves at once, all users together; more are 429. */
  API_EVENT_STREAMS_MAX: z.coerce.number().int().min(1).max(100_000).default(1_000),
});
export type OrchestratorEnv = z.infer<typeof OrchestratorEnv>;

export class ConfigError extends Error {}

/** Parses the environment once at boot; a bad value stops the process, naming the variable. */
export const parseOrchestratorEnv = (env: NodeJS.ProcessEnv = process.env): OrchestratorEnv => {
  const parsed = OrchestratorEnv.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`invalid orchestrator configuration:\n${lines.join('\n')}`);
};
