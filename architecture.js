// The arrows of DESIGN.md as data: read by eslint.config.js (no-restricted-imports) and by the
// architecture test, which also walks the real import graph with them.
const EXECUTION = {
  pattern: '(^|/)(ssh2|ssh2-sftp-client|node-ssh|nodemailer|winrm[^/]*|child_process)$|^node:child_process$',
  why: 'execution libraries live only in the executor (DESIGN.md)',
};
const EXECUTION_CODE = {
  pattern: '^@opsc/activities(/|$)|^@opsc/executor-worker|(^|/)execution(/|$)',
  why: 'the orchestrator side never reaches execution code (DESIGN.md)',
};
const PLANNING_CODE = {
  pattern: '^@opsc/planning(/|$)|(^|/)planning(/|$)',
  why: 'planning and execution never import each other (DESIGN.md)',
};
const VAULT = { pattern: '(^|/)vault(/|$|\\.)', why: 'only the executor holds the vault (DESIGN.md)' };
const DEEP = {
  pattern: '^@opsc/[^/]+/(src|dist)(/|$)',
  why: 'import packages by their declared subpaths, never src/ or dist/',
};

export const ARROWS = [
  {
    name: 'workflows',
    files: ['workflows/src/**/*.ts'],
    forbidden: [DEEP],
    allowOnly: {
      pattern: '^(?!@temporalio/workflow$|@opsc/contracts$|@opsc/contracts/temporal$|\\.\\.?/).*',
      why: 'workflow code imports only @temporalio/workflow, @opsc/contracts and relative files (deterministic sandbox)',
    },
  },
  {
    name: 'contracts',
    files: ['contracts/src/**/*.ts'],
    forbidden: [DEEP],
    allowOnly: {
      pattern: '^(?!zod$|@temporalio/common$|@temporalio/workflow$|node:crypto$|\\.\\.?/).*',
      why: 'contracts are schemas, types and the sealing format: zod, Temporal definitions, node:crypto and relative files only',
    },
  },
  {
    name: 'orchestrator',
    files: ['orchestrator/src/**/*.ts'],
    forbidden: [EXECUTION, EXECUTION_CODE, VAULT, DEEP],
  },
  {
    // The planner: a library the API calls in-process, not a Temporal activity.
    name: 'planning',
    files: ['planning/src/**/*.ts'],
    forbidden: [EXECUTION, EXECUTION_CODE, VAULT, DEEP],
    allowOnly: {
      pattern:
        '^(?!@opsc/contracts$|@opsc/contracts/plan-hash$|zod$|yaml$|@langchain/core/[a-z/]+$|@langchain/openai$|node:(fs|fs/promises|os|path|url)$|\\.\\.?/).*',
      why: 'the planner reads the catalog and asks a model: contracts, zod, yaml, @langchain/*, node:fs/os/path/url and relative files (no Temporal, no database, no server packages)',
    },
  },
  {
    name: 'execution activities',
    files: ['activities/src/**/*.ts'],
    forbidden: [
      PLANNING_CODE,
      { pattern: '^@temporalio/workflow$|^@opsc/workflows', why: 'activities do not import workflow code' },
      { pattern: '^@opsc/orchestrator', why: 'the executor side never reaches the orchestrator' },
      DEEP,
    ],
  },
  {
    name: 'executor-worker',
    files: ['executor-worker/src/**/*.ts'],
    forbidden: [
      {
        pattern: '^@opsc/workflows|^@temporalio/workflow$|^@opsc/contracts/temporal$',
        why: 'the executor registers no workflows',
      },
      { pattern: '^@opsc/planning|^@opsc/orchestrator', why: 'the executor runs execution activities only' },
      DEEP,
    ],
  },
  {
    // Logs, metrics and traces: shared by both services, so it reaches neither side's code.
    name: 'telemetry',
    files: ['telemetry/src/**/*.ts'],
    forbidden: [DEEP],
    allowOnly: {
      pattern:
        '^(?!@opentelemetry/[a-z0-9/-]+$|@temporalio/(worker|common|client|activity)$|@temporalio/interceptors-opentelemetry(/[a-z/-]+)?$|prom-client$|node:[a-z_/]+$|@opsc/contracts$|\\.\\.?/).*',
      why: 'telemetry imports only OpenTelemetry, the Temporal SDK, prom-client, node: built-ins, @opsc/contracts and relative files (no execution, planning, vault or server code)',
    },
  },
  {
    name: 'web',
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    forbidden: [DEEP],
    allowOnly: {
      pattern:
        '^(?!next$|next/[a-z/-]+$|react$|react-dom$|react-dom/client$|@opsc/contracts$|@opsc/contracts/api$|zod$|\\.\\.?/).*',
      why: 'the web app talks to the orchestrator API over HTTP and SSE only: next, react, zod, @opsc/contracts (with its /api types) and relative files (no Temporal, no database, no server packages)',
    },
  },
];
