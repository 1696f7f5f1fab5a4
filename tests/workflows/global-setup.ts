import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { REPO_ROOT } from '@opsc/dev';
import { ensureTestServerBinary } from '@opsc/temporal';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The launcher of Temporal's time-skipping test server (temporal/bin/ensure-test-server.sh). */
    testServerPath: string;
    /** The real workflow bundle (`@opsc/workflows`), built once for every file of the project. */
    workflowBundlePath: string;
  }
}

const require = createRequire(import.meta.url);
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** Every file under `dir`, sorted, relative to the repository. */
const filesUnder = async (dir: string): Promise<string[]> => {
  const entries = await readdir(path.join(REPO_ROOT, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => path.relative(REPO_ROOT, path.join(e.parentPath, e.name)))
    .sort();
};

/**
 * The workflow bundle, cached under .cache/ by what it is built from (the built workflows and
 * contracts, the SDK's version): bundling takes about ten seconds, a third of this project's run.
 */
const workflowBundle = async (): Promise<string> => {
  const hash = createHash('sha256');
  hash.update(JSON.parse(await readFile(require.resolve('@temporalio/worker/package.json'), 'utf8')).version as string);
  for (const file of [...(await filesUnder('workflows/dist')), ...(await filesUnder('contracts/dist'))]) {
    hash.update(file).update(await readFile(path.join(REPO_ROOT, file)));
  }
  const dir = path.join(REPO_ROOT, '.cache', 'workflow-bundle');
  const file = path.join(dir, `${hash.digest('hex').slice(0, 32)}.js`);
  const cached = await readFile(file, 'utf8').then(
    () => true,
    () => false,
  );
  if (cached) return file;
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('@opsc/workflows'), logger: quiet });
  await mkdir(dir, { recursive: true });
  // Written whole or not at all: two runs at once each write their own file and rename it in.
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, code);
  await rename(partial, file);
  // Bundles of earlier code are of no further use.
  for (const old of await readdir(dir))
    if (old.endsWith('.js') && path.join(dir, old) !== file) await rm(path.join(dir, old), { force: true });
  return file;
};

/** The workflow project's set-up: the test server's launcher (installed once, outside the work tree) and the workflow bundle. */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('testServerPath', ensureTestServerBinary());
  project.provide('workflowBundlePath', await workflowBundle());
}
