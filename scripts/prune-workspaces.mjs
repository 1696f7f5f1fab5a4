#!/usr/bin/env node
// The production dependency closure of some workspaces, read from package-lock.json the way Node
// resolves a require (a package's own node_modules, then each parent's), following dependencies,
// optional and peer dependencies, never devDependencies. Each image of the Dockerfile holds only
// the closure of its box's workspaces: `--out` copies it out of a full, built install.
//
//   node scripts/prune-workspaces.mjs --list <workspace>...        JSON: { workspaces, packages }
//   node scripts/prune-workspaces.mjs --out <dir> <workspace>...   copy the closure into <dir>
//   node scripts/prune-workspaces.mjs --out <dir> --link <ws>...    hard-link it (same file system)
//
// A workspace is its folder name (orchestrator, executor-worker, web, ...). Copied from a workspace
// folder: its package.json and what it reads at run time (dist/, migrations/, tools/, bin/, Next's
// build), never src/, tests, TypeScript settings or Next's cache. Packages for another platform
// (os/cpu/libc in the lockfile) are left out.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const LIBC =
  process.platform !== 'linux' ? undefined : process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';

const platformOk = (entry) => {
  const allowed = (list, value) =>
    !list || (list.some((v) => !v.startsWith('!')) ? list.includes(value) : !list.includes(`!${value}`));
  return (
    allowed(entry.os, process.platform) && allowed(entry.cpu, process.arch) && (!LIBC || allowed(entry.libc, LIBC))
  );
};

/** Where `name`, required by the package at lockfile path `from`, resolves: the nearest node_modules. */
const resolveIn = (packages, from, name) => {
  for (let dir = from; ;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up >= 0 ? dir.slice(0, up) : '';
  }
};

/** The lockfile paths (workspace folders, links and packages) the workspaces need in production. */
export const closure = (
  workspaces,
  lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')),
) => {
  const packages = lock.packages;
  for (const ws of workspaces) {
    if (!packages[ws] || ws.includes('node_modules')) throw new Error(`not a workspace of package-lock.json: ${ws}`);
  }
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    const entry = packages[key];
    if (entry.link) return visit(entry.resolved);
    const optional = new Set([
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional)
        .map(([name]) => name),
    ]);
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}),
    ];
    for (const name of new Set(wanted)) {
      const found = resolveIn(packages, key, name);
      if (found && platformOk(packages[found])) visit(found);
      else if (!found && !optional.has(name))
        throw new Error(`${key || 'the root'}: ${name} is not in package-lock.json`);
    }
  };
  for (const ws of workspaces) visit(ws);
  const all = [...seen].sort();
  return {
    workspaces: all.filter((k) => !k.includes('node_modules')),
    packages: all.filter((k) => k.includes('node_modules')),
    links: all.filter((k) => packages[k].link),
  };
};

// Left out of a workspace folder (paths from its root): sources, tests, Next's cache; and any
// TypeScript settings, build info or compiled test.
const SKIP_IN_WORKSPACE = new Set(['src', 'node_modules', 'test', 'tests', '.next/cache']);
const skipFile = (name) => /^tsconfig.*\.json$|\.tsbuildinfo$|\.test\.(js|d\.ts|js\.map|d\.ts\.map)$/.test(name);

const linkOrCopy = (source, target) => {
  try {
    fs.linkSync(source, target);
  } catch (err) {
    if (err.code !== 'EXDEV') throw err;
    fs.copyFileSync(source, target);
  }
};

/** Copies (or hard-links: `link`) the tree at `from` to `to`, keeping symlinks as they are. */
const copyTree = (from, to, { link, skip }, rel = '') => {
  fs.mkdirSync(to, { recursive: true });
  for (const item of fs.readdirSync(from, { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${item.name}` : item.name;
    if (skip(item, relPath)) continue;
    const source = path.join(from, item.name);
    const target = path.join(to, item.name);
    if (item.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target);
    else if (item.isDirectory()) copyTree(source, target, { link, skip }, relPath);
    else if (link) linkOrCopy(source, target);
    else fs.copyFileSync(source, target);
    if (!link && !item.isSymbolicLink()) fs.chmodSync(target, fs.statSync(source).mode & 0o7777);
  }
};

/**
 * Copies the closure of `workspaces` out of the built install at `root` into `outDir`: the root
 * package.json, the workspace folders' run-time files, the packages, and node_modules links to the
 * workspaces. `link` hard-links instead of copying (same file system; the static test uses it).
 */
export const copyClosure = (workspaces, outDir, { root = ROOT, link = false } = {}) => {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const { workspaces: folders, packages, links } = closure(workspaces, lock);
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(outDir, 'package.json'));
  for (const ws of folders)
    copyTree(path.join(root, ws), path.join(outDir, ws), {
      link,
      skip: (item, relPath) => SKIP_IN_WORKSPACE.has(relPath) || (item.isFile() && skipFile(item.name)),
    });
  for (const key of packages) {
    const target = path.join(outDir, key);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (links.includes(key)) {
      fs.symlinkSync(path.relative(path.dirname(target), path.join(outDir, lock.packages[key].resolved)), target);
    } else if (fs.existsSync(path.join(root, key))) {
      // Nested node_modules hold packages of their own: copied if in the closure.
      copyTree(path.join(root, key), target, { link, skip: (_, relPath) => relPath === 'node_modules' });
    } else if (!lock.packages[key].optional) throw new Error(`${key} is not installed`);
  }
  return { workspaces: folders, packages };
};

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === '--list' && rest.length) {
    process.stdout.write(`${JSON.stringify(closure(rest), null, 2)}\n`);
  } else if (mode === '--out' && rest.length > 1) {
    const [outDir, ...names] = rest;
    const link = names[0] === '--link';
    const workspaces = link ? names.slice(1) : names;
    const copied = copyClosure(workspaces, path.resolve(outDir), { link });
    process.stderr.write(
      `prune-workspaces: ${workspaces.join(' ')} -> ${outDir}: ${copied.workspaces.length} workspaces, ${copied.packages.length} packages\n`,
    );
  } else {
    process.stderr.write('usage: prune-workspaces.mjs --list <workspace>... | --out <dir> [--link] <workspace>...\n');
    process.exit(2);
  }
}
