import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// The cluster suite (docs/temporal-cluster.md) runs only when asked for: `npm run test:cluster`
// (`vitest run --project cluster`), or OPSC_CLUSTER_TESTS=1 beside other projects. Plain `vitest run`
// (and so `npm test`) leaves it out: it builds the Temporal server on a fresh machine.
const argv = process.argv.slice(2);
const clusterAsked =
  process.env.OPSC_CLUSTER_TESTS === '1' ||
  argv.some((arg, i) => arg === '--project=cluster' || (arg === '--project' && argv[i + 1] === 'cluster'));
const cluster: TestProjectInlineConfiguration = {
  test: {
    name: 'cluster',
    include: ['tests/cluster/**/*.test.ts'],
    // Its own PostgreSQL and a Temporal cluster (separate history, matching, worker and two frontends
    // behind HAProxy), which the files kill parts of through the set-up's control endpoint.
    globalSetup: ['tests/cluster/global-setup.ts'],
    fileParallelism: false,
    // When asked for beside the others (OPSC_CLUSTER_TESTS=1): last, alone, after llm.
    sequence: { groupOrder: 3 },
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
};

// `npm run bench:eta` (`vitest run --project eta-bench`): the seed's scenarios run twice for the ETA's
// errors (docs/benchmarks.md). A measurement, not a test of the suite: only when asked for.
const etaBenchAsked = argv.some(
  (arg, i) => arg === '--project=eta-bench' || (arg === '--project' && argv[i + 1] === 'eta-bench'),
);
const etaBench: TestProjectInlineConfiguration = {
  test: {
    name: 'eta-bench',
    include: ['tests/eta-bench/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 240_000,
  },
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['*/src/**/*.test.ts', 'tests/static/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'workflows',
          include: ['tests/workflows/**/*.test.ts'],
          // Time-skipping workflow tests: Temporal's Java test server, the real workflow bundle, fake activities.
          globalSetup: ['tests/workflows/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          // One Temporal dev server and one PostgreSQL for the run; files run one at a time because
          // each starts real worker processes and the machine has two cores.
          fileParallelism: false,
          // The files share one worker's module cache: each file still runs fresh, but the support
          // code, clients and SDKs are imported once, not once per file (about 2 s a file). The
          // support modules keep no state between files (each fleet and stack is its own object).
          isolate: false,
          // After unit and workflows, before llm (vitest runs groups in this order).
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          name: 'llm',
          include: ['tests/llm/**/*.test.ts'],
          // Real llama-servers with the local model, started by the files, beside the integration set-up.
          // Last: on a fresh machine setup builds llama-server in the background while the other
          // projects run, and these wait for it. A plan takes seconds to tens of seconds on 2 cores.
          globalSetup: ['tests/support/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          testTimeout: 1_800_000,
          // A fresh machine's background build of llama-server may still be running when these start.
          hookTimeout: 1_800_000,
        },
      },
      {
        test: {
          name: 'chaos',
          include: ['tests/chaos/**/*.test.ts'],
          // The integration set-up (one Temporal dev server, one PostgreSQL), then the fault matrix
          // table written once every file has run (test-results/chaos-matrix.md).
          globalSetup: ['tests/support/global-setup.ts', 'tests/chaos/matrix-report.ts'],
          fileParallelism: false,
          // After unit and workflows, before llm (vitest runs groups in this order).
          sequence: { groupOrder: 1 },
          testTimeout: 300_000,
          hookTimeout: 240_000,
        },
      },
      ...(clusterAsked ? [cluster] : []),
      ...(etaBenchAsked ? [etaBench] : []),
    ],
  },
});
