/**
 * Variables read outside the services' env schemas: by `npm run up`, the command-line tools and the
 * web app's server. Each is read where it is used, so it is declared here for the configuration
 * reference; `tests/static/config-reference.test.ts` fails on a `process.env` read in production code
 * that is neither in a schema nor here.
 */
export interface DeclaredVariable {
  name: string;
  /** The default as text, or `undefined` when there is none. */
  defaultText: string | undefined;
  description: string;
}

export interface DeclaredGroup {
  /** Who reads them, as the reference's heading says it. */
  reader: string;
  /** One sentence on where these apply. */
  about: string;
  variables: DeclaredVariable[];
}

export const DECLARED_ENV: DeclaredGroup[] = [
  {
    reader: 'npm run up',
    about:
      'The supervisor in `dev/` (`npm run up`) reads these. It passes its whole environment on to the orchestrator and the executor (the vault key to the executor only), so their variables can be set here too.',
    variables: [
      {
        name: 'OPSC_SKIP_APT',
        defaultText: undefined,
        description:
          "`1`: `npm run up` does not install the executor's missing network diagnostics (`iputils-ping`, `iputils-tracepath`, `traceroute`, `dnsutils`) with apt-get; their tools stay hidden until they are installed (read by `scripts/setup.sh`).",
      },
      {
        name: 'OPSC_DATA_DIR',
        defaultText: '.data/',
        description:
          "Where the stack keeps its state: the Temporal dev server's database, the embedded PostgreSQL, the vault key, the service roles' passwords, logs and artifacts. The operators' CLI (`npm run users`) reads it too.",
      },
      {
        name: 'OPSC_PG_PORT',
        defaultText: '5433',
        description:
          "Port of the embedded PostgreSQL (5433, so it does not collide with a local PostgreSQL). The operators' CLI reads it too.",
      },
      {
        name: 'TEMPORAL_ADDRESS',
        defaultText: undefined,
        description:
          'Set: use that Temporal cluster and start none. Unset: start the Temporal CLI dev server on loopback.',
      },
      {
        name: 'TEMPORAL_NAMESPACE',
        defaultText: 'default',
        description: 'The namespace the embedded dev server registers and both services use.',
      },
      { name: 'TEMPORAL_PORT', defaultText: '7233', description: "The embedded dev server's frontend (gRPC) port." },
      { name: 'TEMPORAL_UI_PORT', defaultText: '8233', description: "The embedded dev server's Web UI port." },
      {
        name: 'TEMPORAL_UI_URL',
        defaultText: undefined,
        description:
          'Base of the Temporal UI links in API answers when `TEMPORAL_ADDRESS` is set; with the embedded dev server its UI is used.',
      },
      {
        name: 'DATABASE_URL',
        defaultText: undefined,
        description:
          "Set: use that PostgreSQL (an administrative URL: it applies the migrations and makes the two service roles). Unset: start the embedded PostgreSQL. The operators' CLI uses it too.",
      },
      {
        name: 'API_PORT',
        defaultText: '3005',
        description: "The orchestrator API's port; the web app is pointed at it.",
      },
      {
        name: 'WEB_HOST',
        defaultText: '127.0.0.1',
        description:
          'Where the web app listens. On `0.0.0.0` or `::`, set `API_ALLOWED_ORIGINS` to the address people open.',
      },
      { name: 'WEB_PORT', defaultText: '3000', description: "The web app's port." },
      {
        name: 'API_ALLOWED_ORIGINS',
        defaultText: "the web app's origins",
        description:
          'Passed to the orchestrator; unset, it is made from `WEB_HOST` and `WEB_PORT` (`http://127.0.0.1:<port>`, `http://localhost:<port>`, and the host when it is a name).',
      },
      {
        name: 'EXECUTOR_EGRESS_DENY',
        defaultText: undefined,
        description:
          "Passed to the executor with the API, web app and Temporal UI ports and the embedded Temporal's HTTP API and metrics ports added.",
      },
      {
        name: 'EXECUTOR_HEALTH_PORT',
        defaultText: '8010',
        description: "Where it waits for the executor's health answer at start.",
      },
      {
        name: 'OPSC_API_URL',
        defaultText: 'http://127.0.0.1:<API_PORT>',
        description: 'Passed to the web app: the orchestrator API it proxies to.',
      },
      {
        name: 'OPSC_VAULT_KEY',
        defaultText: undefined,
        description:
          'The vault key, given to the executor only. When neither it nor `OPSC_VAULT_KEY_FILE` is set, a key is made once in `<OPSC_DATA_DIR>/vault/master.pem`.',
      },
      {
        name: 'OPSC_VAULT_KEY_FILE',
        defaultText: '<OPSC_DATA_DIR>/vault/master.pem',
        description: 'The vault key file, given to the executor only.',
      },
      {
        name: 'OPSC_LLM',
        defaultText: 'none',
        description:
          "`local` starts llama.cpp's server with the local planner model on loopback (built and fetched once, cached outside the work tree) and points the orchestrator's LLM planner at it (`PLANNER_LLM_MODE=json-schema`, `PLANNER_TIMEOUT_SECONDS` 120 unless set). See docs/llm.md.",
      },
      {
        name: 'OPSC_LLM_PORT',
        defaultText: '8091',
        description: "The local LLM server's port on 127.0.0.1 (`OPSC_LLM=local`, and `npm run llm`).",
      },
    ],
  },
  {
    reader: 'npm run llm',
    about:
      "The local LLM server (`npm run llm`, `llm/`): llama.cpp's `llama-server` with the planner's local model, in the foreground.",
    variables: [
      { name: 'OPSC_LLM_PORT', defaultText: '8091', description: 'Its port.' },
      {
        name: 'OPSC_LLM_HOST',
        defaultText: '127.0.0.1',
        description: 'Its address: loopback only (127.0.0.0/8 or ::1); anything else is refused.',
      },
      {
        name: 'OPSC_DATA_DIR',
        defaultText: '.data/',
        description: 'Where its log (`logs/llm.log`) and API key (`llm/api-key`, mode 0600) go.',
      },
    ],
  },
  {
    reader: 'web server',
    about: "The web app's HTTP server (`web/server.js`) reads this at start, beside the web app's schema above.",
    variables: [
      {
        name: 'WEB_TRUSTED_PROXIES',
        defaultText: undefined,
        description:
          "Reverse proxies in front of the web app (addresses, comma-separated) whose `X-Forwarded-For` it reads, from the right; otherwise the browser's address is the connection's. `npm run up` passes it on.",
      },
    ],
  },
  {
    reader: 'migrate CLI',
    about: '`node database/dist/cli.js migrate` (`npm run migrate`, the compose `migrate` service) reads these.',
    variables: [
      {
        name: 'DATABASE_URL',
        defaultText: undefined,
        description: 'Required: an administrative connection (the database owner), which applies the migrations.',
      },
      {
        name: 'OPSC_ORCHESTRATOR_DB_PASSWORD',
        defaultText: undefined,
        description: 'With `OPSC_EXECUTOR_DB_PASSWORD`: lets the role `opsc_orchestrator` log in with this password.',
      },
      {
        name: 'OPSC_EXECUTOR_DB_PASSWORD',
        defaultText: undefined,
        description: 'With `OPSC_ORCHESTRATOR_DB_PASSWORD`: lets the role `opsc_executor` log in with this password.',
      },
    ],
  },
  {
    reader: 'admin CLI',
    about: "The orchestrator's command line (`npm run create-admin`, `npm run users`) reads these.",
    variables: [
      {
        name: 'DATABASE_URL',
        defaultText: undefined,
        description:
          "Required: the orchestrator role's connection (`npm run users` makes it from the embedded PostgreSQL, or from an administrative `DATABASE_URL`).",
      },
      {
        name: 'API_TOKEN_DEFAULT_DAYS',
        defaultText: '90',
        description: 'Expiry of the token `create-admin` prints, unless `--token-days` says otherwise.',
      },
      {
        name: 'USER',
        defaultText: 'the OS user name',
        description: 'The operator named in the audit log (`cli:<USER>`).',
      },
    ],
  },
];

/** Variables of the operating system that production code passes on to the processes it starts. */
export const SYSTEM_ENV = ['PATH', 'HOME'];
