import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { ResolvedTarget, TargetSelector } from '@opsc/contracts';
import {
  BUILTIN_TOOLS_DIR,
  builtinPlan,
  loadCatalog,
  PHRASINGS,
  SEED_REQUESTS,
  validatePlan,
  type InventorySketch,
} from '@opsc/planning';
import { createKeyring, publishVaultKey } from '@opsc/activities/vault';
import { startEmbeddedPostgres } from '@opsc/database';
import { ensureVaultKeyFile, ORCHESTRATOR_MAIN, prepareDatabase, startService, waitForHttpOk } from '@opsc/dev';
import { createUser, ensureTenant, issueApiToken } from '@opsc/orchestrator/identity';
import { ensureTemporalBinary, startDevServer } from '@opsc/temporal';

/**
 * Planning latency, two ways, over the seed requests and the planner's phrasing corpus:
 *
 * - the built-in planner alone, in this process (target: p95 < 50 ms), and with the validator
 *   (inventory resolved from memory);
 * - `POST /api/plans` end to end with the built-in planner: a real orchestrator, PostgreSQL
 *   inventory, Temporal running (target: p95 < 300 ms). `GET /api/tools` through the same
 *   server, auth and database is the baseline the ratio is taken against.
 *
 *   npm run bench:plan -- [--rounds 20]
 */
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const rounds = Number(arg('rounds', '20'));
const REQUESTS = [...SEED_REQUESTS, ...PHRASINGS.map(([r]) => r).filter((r) => r.trim())];

/**
 * Hostile requests of 4,000 characters, each built to make a backtracking pattern go quadratic (runs
 * of one character, of spaces, of half-phrases): the planner must stay as fast on these.
 */
const ADVERSARIAL = [
  'a',
  '-',
  'a.',
  'a/',
  "'",
  '`',
  '|',
  '&&',
  'a      ',
  '|      ',
  'on web-',
  'wait 1 ',
  'C:\\a ',
  '\\\\a',
  'run x ',
  '1 at a ',
  'restart ',
  'x-1 ',
  'count the rows in ',
  '"',
  '%',
  'a\n',
  '```',
  'https://a',
  'stop on the first ',
  'delete a ',
  'version of a ',
  'is a running ',
  "'a' group ",
  'a. ',
  'then ',
  ', ',
  'after ',
  'in 1 ',
  'x   service ',
  "on 'a ",
  'show the 1 most recent rows of ',
  'pause for 1 s between stopping and starting ',
  'if more than 1% ',
  'status of a ',
].map((unit) => `restart nginx on web-server-01 ${unit.repeat(4_000)}`.slice(0, 4_000));

const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] ?? 0;
const row = (label: string, ms: number[]) =>
  `${label.padEnd(44)} ${String(ms.length).padStart(6)} ${pct(ms, 50).toFixed(2).padStart(9)} ${pct(ms, 95).toFixed(2).padStart(9)} ${Math.max(
    ...ms,
  )
    .toFixed(2)
    .padStart(9)}`;

/** The fleet the corpus speaks of. */
const FLEET: { group: string | null; names: string[]; os: 'linux' | 'windows' }[] = [
  { group: 'CIS servers', names: Array.from({ length: 25 }, (_, i) => `cis-${i + 1}`), os: 'windows' },
  { group: 'Production Web', names: Array.from({ length: 10 }, (_, i) => `web-${i + 1}`), os: 'linux' },
  { group: 'Data Processing', names: Array.from({ length: 7 }, (_, i) => `dp-lnx-${i + 1}`), os: 'linux' },
  { group: 'Data Processing', names: Array.from({ length: 5 }, (_, i) => `dp-win-${i + 1}`), os: 'windows' },
  { group: 'Databases', names: ['db-a', 'db-b', 'db-c'], os: 'linux' },
  { group: null, names: ['web-server-01', 'web-server-02', 'db-01'], os: 'linux' },
  { group: null, names: ['win-app-01', 'app01'], os: 'windows' },
];

const inProcess = async () => {
  const catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
  const all = FLEET.flatMap((f) =>
    f.names.map((name): ResolvedTarget & { group: string | null } => ({
      id: name,
      name,
      address: '127.0.0.1',
      os: f.os,
      tags: [],
      group: f.group,
      services: [
        f.os === 'linux'
          ? { protocol: 'ssh', port: 22, credentialId: 'c' }
          : {
              protocol: 'winrm',
              scheme: 'http',
              port: 5985,
              transport: 'ntlm',
              verifyCertificate: true,
              credentialId: 'c',
            },
      ],
    })),
  );
  const groups = [...new Set(all.flatMap((t) => (t.group ? [t.group] : [])))];
  const inventory: InventorySketch = {
    groups: groups.map((g) => ({ name: g, size: all.filter((t) => t.group === g).length })),
    targets: all.map((t) => ({ name: t.name, os: t.os })),
  };
  const resolveTargets = async (s: TargetSelector) =>
    all.filter(
      (t) =>
        (!s.group || t.group === s.group) && (!s.targets || s.targets.includes(t.name)) && (!s.os || t.os === s.os),
    );
  const plannerMs: number[] = [];
  const withValidationMs: number[] = [];
  const adversarialMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const request of REQUESTS) {
      const t0 = performance.now();
      const answer = builtinPlan({ request, inventory, catalog });
      const t1 = performance.now();
      if (answer.kind === 'plan') await validatePlan(answer.draft, { catalog, resolveTargets });
      plannerMs.push(t1 - t0);
      withValidationMs.push(performance.now() - t0);
    }
    for (const request of ADVERSARIAL) {
      const t0 = performance.now();
      builtinPlan({ request, inventory, catalog });
      adversarialMs.push(performance.now() - t0);
    }
  }
  return { plannerMs, withValidationMs, adversarialMs };
};

const endToEnd = async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'opsc-bench-plan-'));
  // PostgreSQL runs as an unprivileged user when we are root; it must be able to enter this folder.
  await chmod(work, 0o755);
  const temporal = await startDevServer({
    binary: ensureTemporalBinary(),
    dbFile: path.join(work, 'temporal.db'),
    port: 17_233,
    uiPort: null,
    namespace: 'default',
    logFile: path.join(work, 'temporal.log'),
  });
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), port: 15_433, database: 'postgres' });
  const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
  let orchestrator: ReturnType<typeof startService> | undefined;
  try {
    const roles = await prepareDatabase(postgres.url, path.join(work, 'roles.json'));
    const keyFile = ensureVaultKeyFile(path.join(work, 'vault'));
    const executorPool = new pg.Pool({ connectionString: roles.executor, max: 1 });
    await publishVaultKey(executorPool, createKeyring([await readFile(keyFile, 'utf8')]));
    await executorPool.end();
    const tenantId = await ensureTenant(pool, 'bench');
    const token = await issueApiToken(
      pool,
      await createUser(pool, { tenantId, username: 'bench-admin', role: 'admin' }),
      'bench',
    );
    orchestrator = startService({
      name: 'orchestrator',
      script: ORCHESTRATOR_MAIN,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DATABASE_URL: roles.orchestrator,
        TEMPORAL_ADDRESS: temporal.address,
        API_PORT: '13005',
        ORCHESTRATOR_METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      onLine: () => undefined,
    });
    const api = 'http://127.0.0.1:13005';
    await waitForHttpOk(`${api}/api/health`, 90_000, orchestrator);
    const call = async (p: string, body?: unknown) => {
      const res = await fetch(`${api}${p}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${p}: ${res.status} ${text}`);
      return text;
    };
    await call('/api/credentials', { name: 'win', username: 'ops', secret: { kind: 'winrm', password: 'bench-only' } });
    await call('/api/credentials', {
      name: 'lnx',
      username: 'ops',
      secret: { kind: 'password', password: 'bench-only' },
    });
    const members = new Map<string, string[]>();
    let n = 0;
    for (const f of FLEET) {
      for (const name of f.names) {
        n += 1;
        await call('/api/inventory/targets', {
          name,
          address: `127.0.${Math.floor(n / 250) + 1}.${(n % 250) + 1}`,
          os: f.os,
          services: [
            f.os === 'linux' ? { protocol: 'ssh', credential: 'lnx' } : { protocol: 'winrm', credential: 'win' },
          ],
        });
        if (f.group) members.set(f.group, [...(members.get(f.group) ?? []), name]);
      }
    }
    for (const [name, targets] of members) await call('/api/inventory/groups', { name, targets });

    for (const request of REQUESTS.slice(0, 5)) await call('/api/plans', { request }); // warm-up
    const planMs: number[] = [];
    const baselineMs: number[] = [];
    for (let r = 0; r < Math.max(1, Math.floor(rounds / 4)); r++) {
      for (const request of REQUESTS) {
        let t = performance.now();
        await call('/api/plans', { request });
        planMs.push(performance.now() - t);
        t = performance.now();
        await call('/api/tools');
        baselineMs.push(performance.now() - t);
      }
    }
    return { planMs, baselineMs };
  } finally {
    orchestrator?.kill('SIGTERM');
    await orchestrator?.exited;
    await pool.end();
    await postgres.stop();
    await temporal.stop();
    await rm(work, { recursive: true, force: true });
  }
};

const main = async () => {
  process.stdout.write(
    `${REQUESTS.length} requests (the seeds and the phrasing corpus); ${os.availableParallelism()} cores\n\n`,
  );
  process.stdout.write(
    `${'what'.padEnd(44)} ${'calls'.padStart(6)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'max ms'.padStart(9)}\n`,
  );
  const a = await inProcess();
  process.stdout.write(`${row('built-in planner (target p95 < 50 ms)', a.plannerMs)}\n`);
  process.stdout.write(`${row('built-in planner + validator', a.withValidationMs)}\n`);
  process.stdout.write(`${row('built-in planner, 4,000-char hostile requests', a.adversarialMs)}\n`);
  const b = await endToEnd();
  process.stdout.write(`${row('POST /api/plans (target p95 < 300 ms)', b.planMs)}\n`);
  process.stdout.write(`${row('GET /api/tools (baseline)', b.baselineMs)}\n`);
  process.stdout.write(
    `\nPOST /api/plans / baseline: p50 ${(pct(b.planMs, 50) / pct(b.baselineMs, 50)).toFixed(1)}x, p95 ${(pct(b.planMs, 95) / pct(b.baselineMs, 95)).toFixed(1)}x\n`,
  );
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
