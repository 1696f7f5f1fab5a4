import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleCacheDir, bundleKey, workflowCode } from './workflow-code.js';

const require = createRequire(import.meta.url);
const logOf = () => {
  const warnings: string[] = [];
  return {
    warnings,
    log: { warn: (m: string, f?: Record<string, unknown>) => void warnings.push(`${m} ${JSON.stringify(f ?? {})}`) },
  };
};
const codePathOf = (code: Awaited<ReturnType<typeof workflowCode>>) =>
  code.workflowBundle && 'codePath' in code.workflowBundle ? code.workflowBundle.codePath : undefined;

const made: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-bundles-'));
  made.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the workflow bundle cache', () => {
  it('bundles once, then hands the same bundle to every later start while the code is unchanged', async () => {
    const dir = path.join(await tempDir(), 'cache');
    const { log, warnings } = logOf();
    const first = codePathOf(await workflowCode({ cacheDir: dir, log }));
    expect(first).toBeDefined();
    const written = await stat(first!);
    expect(written.mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const source = await import('node:fs/promises').then((fs) => fs.readFile(first!, 'utf8'));
    expect(source).toContain('runJob');

    const second = codePathOf(await workflowCode({ cacheDir: dir, log }));
    expect(second).toBe(first);
    expect((await stat(second!)).ino).toBe(written.ino);
    expect((await readdir(dir)).filter((f) => f.endsWith('.js'))).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('keys the bundle by the workflow interceptors too, so a traced worker never gets an untraced bundle', async () => {
    const workflows = require.resolve('@opsc/workflows');
    const plain = await bundleKey(workflows, []);
    const traced = await bundleKey(workflows, [
      require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
    ]);
    expect(plain).toMatch(/^[0-9a-f]{40}$/);
    expect(traced).not.toBe(plain);
    expect(await bundleKey(workflows, [])).toBe(plain);
  });

  it('refuses a folder others can write, and a planted bundle, bundling afresh instead', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o777);
    const { log, warnings } = logOf();
    expect(await workflowCode({ cacheDir: dir, log })).toEqual({ workflowsPath: require.resolve('@opsc/workflows') });
    expect(warnings.join('\n')).toMatch(/writable by others/);

    await chmod(dir, 0o700);
    const key = await bundleKey(require.resolve('@opsc/workflows'), []);
    const planted = path.join(dir, `${key}.js`);
    await writeFile(planted, 'globalThis.pwned = true;', { mode: 0o666 });
    await chmod(planted, 0o666);
    const again = logOf();
    expect(await workflowCode({ cacheDir: dir, log: again.log })).toEqual({
      workflowsPath: require.resolve('@opsc/workflows'),
    });
    expect(again.warnings.join('\n')).toMatch(/writable by others/);
  });

  it('is off when the setting says so, and expands ~ to the home folder', () => {
    expect(bundleCacheDir('off')).toBeNull();
    expect(bundleCacheDir('')).toBeNull();
    expect(bundleCacheDir('~/.cache/x')).toBe(path.join(os.homedir(), '.cache/x'));
  });
});
