import path from 'node:path';
import { z } from 'zod';
import type { WorkerOptions } from '@temporalio/worker';
import { PoolName, parseEgressRule } from '@opsc/contracts';

/** `VAR=` (as compose writes `${VAR:-}`) counts as unset. */
const unsetWhenEmpty = (v: unknown) => (v === '' ? undefined : v);

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

/**
 * Programs `local-command` may start when EXECUTOR_LOCAL_COMMANDS is not set: network checks and
 * harmless probes. No general network client (curl, nc): an http step does that, under the egress policy.
 */
export const DEFAULT_LOCAL_COMMANDS =
  'ping,ping6,traceroute,tracepath,dig,nslookup,host,uptime,hostname,date,uname,df,echo,sleep,true,false';

/** Comma-separated egress rules (host[:port], CIDR[:port]); a bad one names itself. */
const egressRuleList = csv.superRefine((entries, ctx) => {
  for (const entry of entries) {
    const parsed = parseEgressRule(entry);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: `${entry}: ${parsed.error}` });
  }
});

const absolutePaths = csv.superRefine((entries, ctx) => {
  for (const entry of entries)
    if (!path.isAbsolute(entry)) ctx.addIssue({ code: 'custom', message: `${entry}: must be an absolute path` });
});

/** The executor's configuration. Only this schema will know the vault key. */
export const ExecutorEnv = z.object({
  /** The Temporal frontend, host:port. */
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  /** The Temporal namespace. */
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
  /**
   * Traces (docs/tracing.md): the OTLP/HTTP collector they are sent to, `/v1/traces` added. Unset
   * (with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) means no tracing at all.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(unsetWhenEmpty, z.url({ protocol: /^https?$/ }).optional()).optional(),
  /** The full OTLP/HTTP traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .preprocess(unsetWhenEmpty, z.url({ protocol: /^https?$/ }).optional())
    .optional(),
  /** PostgreSQL as the `opsc_executor` role (`npm run up` makes it), a postgres:// URL. Removed from the process's environment once read. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' }),
  /** Where the health and metrics server listens (`/health`, `/metrics` for Prometheus). */
  EXECUTOR_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /** The health and metrics server's port. */
  EXECUTOR_HEALTH_PORT: z.coerce.number().int().min(1).max(65_535).default(8010),
  /**
   * The executor pool this executor serves (docs/executor-pools.md): it runs the actions of targets
   * in that pool only. Several executors may serve one pool and share its work.
   */
  EXECUTOR_POOL: PoolName.default('executor'),
  /**
   * The tenants (names, comma-separated) this executor serves its named pool for; required with a
   * pool other than `executor`. A pool is a tenant's own: another tenant's targets of the same pool
   * name never reach it.
   */
  EXECUTOR_POOL_TENANTS: csv.default([]),
  /** Activities this worker runs at once; more executors scale further. */
  EXECUTOR_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  /**
   * How the worker asks Temporal for steps: `autoscaling` opens between EXECUTOR_ACTIVITY_POLLERS_MIN and
   * EXECUTOR_ACTIVITY_POLLERS_MAX long polls at once as the server's answers say work is waiting;
   * `fixed` keeps EXECUTOR_ACTIVITY_POLLERS_MAX open. Never more than free activity slots.
   */
  EXECUTOR_ACTIVITY_POLLER_MODE: z.enum(['autoscaling', 'fixed']).default('autoscaling'),
  /** The fewest activity polls kept open (autoscaling). */
  EXECUTOR_ACTIVITY_POLLERS_MIN: z.coerce.number().int().min(1).max(1_000).default(2),
  /** The most activity polls open at once (autoscaling), or how many are kept open (fixed). */
  EXECUTOR_ACTIVITY_POLLERS_MAX: z.coerce.number().int().min(1).max(1_000).default(50),
  /** Programs a `local-command` step may start (comma-separated); anything else fails with CommandNotAllowed. */
  EXECUTOR_LOCAL_COMMANDS: csv.default(DEFAULT_LOCAL_COMMANDS.split(',')),
  /** PATH for local commands, and where `bwrap` is found (the executor's own environment is not passed on). */
  EXECUTOR_LOCAL_PATH: z.string().min(1).default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
  /** The unprivileged user local commands run as (bubblewrap) when the executor runs as root; scripts/setup.sh creates it. */
  EXECUTOR_SANDBOX_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a user name' })
    .default('opsc-sandbox'),
  /** More folders or files local commands must not see, beside the artifact folder, the vault key's folder and the repository's .data/. */
  EXECUTOR_SANDBOX_HIDE: absolutePaths.default([]),
  /**
   * More of the platform's own services (host[:port] or CIDR[:port]) that no step may reach whatever
   * a tenant allows, beside Temporal, PostgreSQL and this executor's health port. `npm run up` adds the API,
   * web app and Temporal UI ports; the compose file names every service.
   */
  EXECUTOR_EGRESS_DENY: egressRuleList.default([]),
  /** Bytes of each output stream returned into workflow history (the rest stays in PostgreSQL). */
  EXECUTOR_RESULT_CAP_BYTES: z.coerce.number().int().min(256).max(1_048_576).default(16_384),
  /** Bytes of each output stream stored in PostgreSQL. */
  EXECUTOR_STORE_CAP_BYTES: z.coerce.number().int().min(1_024).max(67_108_864).default(1_048_576),
  /** Output lines streamed to PostgreSQL (output_lines) per step attempt, for live logs; 0 turns streaming off. */
  EXECUTOR_STREAM_LINES_PER_ATTEMPT: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /** Step results kept on the executor while PostgreSQL is unreachable (saved with retries when it is back); past it the oldest are dropped and logged. */
  EXECUTOR_RESULT_OUTBOX_MAX_RECORDS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Bytes of output kept with them; past it the oldest results keep their exit code and facts but lose their output. */
  EXECUTOR_RESULT_OUTBOX_MAX_BYTES: z.coerce.number().int().min(1_048_576).max(4_294_967_296).default(134_217_728),
  /** Time the executor keeps trying to save kept results on shutdown, after its activities have ended. */
  EXECUTOR_RESULT_OUTBOX_FLUSH_SECONDS: z.coerce.number().int().min(0).max(3_600).default(30),
  /** How old a job's target lookup (endpoint, host key, sealed credential) may be to start an action while PostgreSQL is unreachable. */
  EXECUTOR_LOOKUP_CACHE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Target lookups remembered at once. */
  EXECUTOR_LOOKUP_CACHE_ENTRIES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** On SIGTERM the executor takes no new step and gives running ones this long to finish (/health: 503 "stopping"); those still running are then handed back: they go on on their targets and another executor reports them. */
  EXECUTOR_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(30),
  /** file-fetch writes under fetched/; uploaded artifacts file-copy sends are cached under .store/. Created at start (`npm run up`: `.data/artifacts`). */
  EXECUTOR_ARTIFACT_DIR: z.string().min(1).default('/var/lib/opsc/artifacts'),
  /** Size of the local copies of uploaded artifacts (.store/) past which the least recently used go; none used in the last hour. */
  EXECUTOR_ARTIFACT_CACHE_MAX_MB: z.coerce.number().int().min(1).max(10_000_000).default(2048),
  /** Host key policy of targets that set none: `accept-new` pins the first key seen, `strict` needs an enrolment step. */
  SSH_HOST_KEY_POLICY: z.enum(['strict', 'accept-new']).default('accept-new'),
  /** SSH handshakes in flight at once, across all targets. */
  SSH_MAX_HANDSHAKES: z.coerce.number().int().min(1).max(1_000).default(32),
  /** Exec channels per connection: the targets' sshd MaxSessions (default 10) minus one kept for SFTP. */
  SSH_MAX_CHANNELS_PER_HOST: z.coerce.number().int().min(1).max(100).default(9),
  /** Seconds an unused pooled connection stays open. */
  SSH_IDLE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  /** Seconds for TCP connect, key exchange and authentication. */
  SSH_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(300).default(20),
  /** Keepalive interval; three unanswered keepalives drop the connection. */
  SSH_KEEPALIVE_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  /** WinRM commands at once on one target (each holds a shell; Windows allows 30 per user by default). */
  WINRM_MAX_CONCURRENT_PER_HOST: z.coerce.number().int().min(1).max(100).default(8),
  /** Seconds an unused authenticated WinRM connection stays open. */
  WINRM_IDLE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  /** Seconds for the TCP (and TLS) connect to a WinRM service. */
  WINRM_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  /** WS-Management MaxEnvelopeSize in bytes: the targets' MaxEnvelopeSizekb (Windows default 150 KB). */
  WINRM_MAX_ENVELOPE_SIZE: z.coerce.number().int().min(32_768).max(16_777_216).default(153_600),
  /** Seconds a WinRM Receive may wait for output before the server answers "nothing yet" and it is asked again. */
  WINRM_OPERATION_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
  /** The vault master key(s), PKCS#8 PEM, newest first, inline. Removed from the process's environment once read. */
  OPSC_VAULT_KEY: z.string().min(1).optional(),
  /** The same, in a file readable by its owner only (mode 0600); the executor refuses a file others may read. */
  OPSC_VAULT_KEY_FILE: z.string().min(1).optional(),
  /** The least severe line this service writes (JSON, one object per line: docs/logging.md). */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * The least severe line of the Temporal SDK and its core written, through the same JSON logger (so
   * LOG_LEVEL filters them too): `info` adds worker state changes, `debug` every activity's start and end.
   */
  TEMPORAL_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
});
export type ExecutorEnv = z.infer<typeof ExecutorEnv>;

export class ConfigError extends Error {}

type PollerBehavior = NonNullable<WorkerOptions['activityTaskPollerBehavior']>;

/** The SDK's activity poller behaviour from the EXECUTOR_ACTIVITY_POLLER* settings. */
export const activityPollers = (
  env: Pick<
    ExecutorEnv,
    'EXECUTOR_ACTIVITY_POLLER_MODE' | 'EXECUTOR_ACTIVITY_POLLERS_MIN' | 'EXECUTOR_ACTIVITY_POLLERS_MAX'
  >,
): PollerBehavior =>
  env.EXECUTOR_ACTIVITY_POLLER_MODE === 'fixed'
    ? { type: 'simple-maximum', maximum: env.EXECUTOR_ACTIVITY_POLLERS_MAX }
    : {
        type: 'autoscaling',
        minimum: env.EXECUTOR_ACTIVITY_POLLERS_MIN,
        maximum: env.EXECUTOR_ACTIVITY_POLLERS_MAX,
        initial: Math.min(env.EXECUTOR_ACTIVITY_POLLERS_MAX, Math.max(env.EXECUTOR_ACTIVITY_POLLERS_MIN, 5)),
      };

/** Parses the environment once at boot; a bad value stops the process, naming the variable. */
export const parseExecutorEnv = (env: NodeJS.ProcessEnv = process.env): ExecutorEnv => {
  const parsed = ExecutorEnv.safeParse(env);
  if (parsed.success) {
    const { EXECUTOR_POOL: pool, EXECUTOR_POOL_TENANTS: tenants } = parsed.data;
    if (pool !== 'executor' && tenants.length === 0)
      throw new ConfigError(
        `invalid executor configuration:\n  EXECUTOR_POOL_TENANTS: name the tenants pool ${pool} serves (comma-separated)`,
      );
    const { EXECUTOR_ACTIVITY_POLLERS_MIN: min, EXECUTOR_ACTIVITY_POLLERS_MAX: max } = parsed.data;
    if (min > max)
      throw new ConfigError(
        `invalid executor configuration:\n  EXECUTOR_ACTIVITY_POLLERS_MIN: ${min} is more than EXECUTOR_ACTIVITY_POLLERS_MAX (${max})`,
      );
    if (pool === 'executor' && tenants.length > 0)
      throw new ConfigError(
        'invalid executor configuration:\n  EXECUTOR_POOL_TENANTS: only a named pool (EXECUTOR_POOL) serves chosen tenants; the default pool serves all',
      );
    return parsed.data;
  }
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`invalid executor configuration:\n${lines.join('\n')}`);
};
