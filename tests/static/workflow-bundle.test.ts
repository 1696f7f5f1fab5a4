import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from '@opsc/dev';
import { bundleWorkflowCode } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const quiet = { logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } };

describe('workflow bundle', () => {
  it('bundles the workflows for the deterministic sandbox', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('@opsc/workflows'), ...quiet });
    expect(code).toContain('runJob');
  });

  it('fails on a workflow that imports a Node built-in, so CI catches it before a worker does', async () => {
    // Inside the repository (git-ignored .cache/) so that the bundler resolves the SDK as it would for ours.
    await mkdir(path.join(REPO_ROOT, '.cache'), { recursive: true });
    const dir = await mkdtemp(path.join(REPO_ROOT, '.cache', 'bad-workflow-'));
    const file = path.join(dir, 'bad-workflow.js');
    await writeFile(
      file,
      "import { execSync } from 'node:child_process';\nexport async function bad() { return execSync('id'); }\n",
    );
    const errors: string[] = [];
    const logger = { ...quiet.logger, error: (message: string) => void errors.push(message) };
    await expect(bundleWorkflowCode({ workflowsPath: file, logger })).rejects.toThrow(/Webpack finished with errors/);
    expect(errors.join('\n')).toMatch(/node:child_process/);
  });
});
