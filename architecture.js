// The arrows of DESIGN.md as data: read by eslint.config.js (no-restricted-imports) and by the
// architecture test, which also walks the real import graph with them.
const EXECUTION = { pattern: '(^|/)(ssh2|ssh2-sftp-client|node-ssh|winrm[^/]*|child_process)$|^node:child_process$', why: 'execution libraries live only in the executor (DESIGN.md)' };
const EXECUTION_CODE = { pattern: '^@opsc/activities/execution|^@opsc/executor-worker|(^|/)execution(/|$)', why: 'the orchestrator side never reaches execution code (DESIGN.md)' };
const VAULT = { pattern: '(^|/)vault(/|$|\\.)', why: 'only the executor holds the vault (DESIGN.md)' };
const DEEP = { pattern: '^@opsc/[^/]+/(src|dist)(/|$)', why: 'import packages by their declared subpaths, never src/ or dist/' };

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
    name: 'planning activities',
    files: ['activities/src/planning/**/*.ts'],
    forbidden: [EXECUTION, EXECUTION_CODE, VAULT, DEEP],
  },
  {
    name: 'execution activities',
    files: ['activities/src/execution/**/*.ts'],
    forbidden: [
      { pattern: '^@opsc/activities/planning|(^|/)planning(/|$)', why: 'planning and execution activities never import each other' },
      { pattern: '^@temporalio/workflow$|^@opsc/workflows', why: 'activities do not import workflow code' },
      DEEP,
    ],
  },
  {
    name: 'executor-worker',
    files: ['executor-worker/src/**/*.ts'],
    forbidden: [
      { pattern: '^@opsc/workflows|^@temporalio/workflow$|^@opsc/contracts/temporal$', why: 'the executor registers no workflows' },
      { pattern: '^@opsc/activities/planning|^@opsc/orchestrator', why: 'the executor runs execution activities only' },
      DEEP,
    ],
  },
  {
    name: 'web',
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    forbidden: [DEEP],
    allowOnly: {
      pattern: '^(?!next$|next/[a-z/-]+$|react$|react-dom$|react-dom/client$|@opsc/contracts$|@opsc/contracts/api$|zod$|\\.\\.?/).*',
      why: 'the web app talks to the orchestrator API over HTTP and SSE only: next, react, zod, @opsc/contracts (with its /api types) and relative files (no Temporal, no database, no server packages)',
    },
  },
];
