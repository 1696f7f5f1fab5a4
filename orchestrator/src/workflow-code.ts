import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';

const require = createRequire(import.meta.url);

/** Bundles kept in the cache: the newest, by last use; one per code version and interceptor set. */
const KEEP = 12;

type Log = { warn(message: string, fields?: Record<string, unknown>): void };

/** What the worker is given: the cached bundle's path, or the workflows for it to bundle itself. */
export type WorkflowCode = Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;

/** `~/…` as the process's home; empty or `off`: no cache. */
export const bundleCacheDir = (setting: string): string | null => {
  if (setting === '' || setting === 'off') return null;
  return path.resolve(setting.startsWith('~/') ? path.join(os.homedir(), setting.slice(2)) : setting);
};

/** Every `.js` file under `dir`, sorted. */
const scriptsUnder = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();

/** The lockfile of the installation the workflows are part of, found upwards from them; null when none. */
const lockfileAbove = (from: string): string | null => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package-lock.json');
    if (existsSync(file)) return file;
    if (path.dirname(dir) === dir) return null;
  }
};

/**
 * What the bundle is made of, as one hash: the built workflows and contracts, the installed
 * packages' versions (the lockfile), the SDK's version and the workflow interceptor modules. Null
 * when the installation has no lockfile to pin the packages with: then nothing is cached.
 */
export const bundleKey = async (
  workflowsPath: string,
  interceptorModules: readonly string[],
): Promise<string | null> => {
  const workflowsDir = path.dirname(workflowsPath);
  const lockfile = lockfileAbove(workflowsDir);
  if (!lockfile) return null;
  const contractsDir = path.dirname(require.resolve('@opsc/contracts'));
  const hash = createHash('sha256');
  const sdk = JSON.parse(await readFile(require.resolve('@temporalio/worker/package.json'), 'utf8')) as {
    version: string;
  };
  hash.update(`sdk ${sdk.version}\0`);
  hash.update(await readFile(lockfile));
  for (const module of interceptorModules)
    hash.update(`interceptor ${module}\0`).update(existsSync(module) ? await readFile(module) : '');
  for (const file of [...(await scriptsUnder(workflowsDir)), ...(await scriptsUnder(contractsDir))])
    hash.update(`${path.relative(workflowsDir, file)}\0`).update(await readFile(file));
  return hash.digest('hex').slice(0, 40);
};

/** A path only this process's user can write, or why not: a bundle there runs as workflow code. */
const privateToUs = async (file: string, kind: 'dir' | 'file'): Promise<string | null> => {
  const st = await lstat(file);
  if (kind === 'dir' ? !st.isDirectory() : !st.isFile())
    return `${file} is not a ${kind === 'dir' ? 'folder' : 'file'}`;
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return `${file} belongs to another user`;
  if ((st.mode & 0o022) !== 0) return `${file} is writable by others`;
  return null;
};

/** Drops all but the `KEEP` most recently used bundles (and abandoned partial writes). */
const prune = async (dir: string): Promise<void> => {
  const entries = await Promise.all(
    (await readdir(dir))
      .filter((name) => name.endsWith('.js') || name.endsWith('.tmp'))
      .map(async (name) => ({ name, mtime: (await lstat(path.join(dir, name))).mtimeMs })),
  );
  const hourAgo = Date.now() - 3_600_000;
  const bundles = entries.filter((e) => e.name.endsWith('.js')).sort((a, b) => b.mtime - a.mtime);
  const stale = [...bundles.slice(KEEP), ...entries.filter((e) => e.name.endsWith('.tmp') && e.mtime < hourAgo)];
  await Promise.all(stale.map((e) => rm(path.join(dir, e.name), { force: true })));
};

/**
 * The workflow code for the orchestrator's worker. Bundling it takes seconds of CPU at every start,
 * so the bundle is kept in `cacheDir` under the hash of what it is made of (`bundleKey`) and reused
 * while that is unchanged. The folder and file must be this user's alone; a bundle is written whole
 * (renamed into place) or not at all. Anything amiss, or no cache: the worker bundles as before.
 */
export const workflowCode = async (options: {
  cacheDir: string | null;
  interceptorModules?: readonly string[];
  log: Log;
}): Promise<WorkflowCode> => {
  const workflowsPath = require.resolve('@opsc/workflows');
  const fallback: WorkflowCode = { workflowsPath };
  const dir = options.cacheDir;
  if (!dir) return fallback;
  const interceptorModules = [...(options.interceptorModules ?? [])];
  try {
    const key = await bundleKey(workflowsPath, interceptorModules);
    if (!key) return fallback;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const refused = await privateToUs(dir, 'dir');
    if (refused) {
      options.log.warn('workflow bundle cache not used', { reason: refused });
      return fallback;
    }
    const file = path.join(dir, `${key}.js`);
    if (existsSync(file)) {
      const unsafe = await privateToUs(file, 'file');
      if (!unsafe) {
        const now = new Date();
        await utimes(file, now, now);
        return { workflowBundle: { codePath: file } };
      }
      options.log.warn('workflow bundle cache not used', { reason: unsafe });
      return fallback;
    }
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: interceptorModules,
      logger: quietLogger(options.log),
    });
    const partial = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(partial, code, { mode: 0o600, flag: 'wx' });
    await rename(partial, file);
    await prune(dir);
    return { workflowBundle: { codePath: file } };
  } catch (err) {
    options.log.warn('workflow bundle cache not used', { reason: (err as Error).message });
    return fallback;
  }
};

/** The bundler's own chatter stays out of the log; its warnings and errors do not. */
const quietLogger = (log: Log) => ({
  trace() {},
  debug() {},
  info() {},
  log() {},
  warn: (message: string) => log.warn(`workflow bundler: ${message}`),
  error: (message: string) => log.warn(`workflow bundler: ${message}`),
});
