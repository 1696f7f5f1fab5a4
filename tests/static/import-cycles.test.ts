import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';

/*
 * The import graph of the production sources (every workspace's src/, the web app's included) has
 * no cycle: a cycle makes module order matter and hides which box leans on which. Imports between
 * packages count too, through each package's declared exports (dist/x.js is src/x.ts). Tests are
 * not production sources.
 */

const rel = (file: string) => path.relative(REPO_ROOT, file);
const NOT_SOURCE = new Set(['node_modules', 'dist', '.next']);
const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return NOT_SOURCE.has(entry) ? [] : sourceFiles(full);
    return /\.tsx?$/.test(full) && !/\.test\.tsx?$/.test(full) && !full.endsWith('.d.ts') ? [full] : [];
  });

interface Manifest {
  name: string;
  exports?: Record<string, string>;
  workspaces?: string[];
}
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;

/** The source file of a built file or an import path: `.js` is `.ts`/`.tsx`, a folder its index. */
const sourceOf = (base: string): string | undefined => {
  const stem = base.replace(/\.js$/, '');
  return [`${stem}.ts`, `${stem}.tsx`, path.join(stem, 'index.ts'), path.join(stem, 'index.tsx')].find(
    (f) => existsSync(f) && statSync(f).isFile(),
  );
};

const workspaces = (manifest(REPO_ROOT).workspaces ?? []).map((w) => path.join(REPO_ROOT, w));
/** `@opsc/x/sub` → the source file its export names. */
const exported = new Map<string, string>();
for (const dir of workspaces) {
  const { name, exports = {} } = manifest(dir);
  for (const [sub, target] of Object.entries(exports)) {
    const file = sourceOf(path.join(dir, target.replace(/^\.\/dist\//, './src/')));
    if (file) exported.set(sub === '.' ? name : `${name}/${sub.slice(2)}`, file);
  }
}

const files = workspaces.flatMap((dir) =>
  existsSync(path.join(dir, 'src')) ? sourceFiles(path.join(dir, 'src')) : [],
);
const graph = new Map<string, string[]>(
  files.map((file) => {
    const specifiers = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
    const targets = specifiers.flatMap((s) => {
      const target = s.startsWith('.') ? sourceOf(path.resolve(path.dirname(file), s)) : exported.get(s);
      return target ? [target] : [];
    });
    return [file, [...new Set(targets)]];
  }),
);

/** The strongly connected components with more than one file, or a file importing itself (Tarjan). */
const cycles = (graph: Map<string, string[]>): string[][] => {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
};

describe('the import graph of the production sources', () => {
  it('reaches every package and resolves imports between them', () => {
    const packages = new Set(files.map((f) => rel(f).split('/')[0]));
    for (const name of ['contracts', 'workflows', 'planning', 'activities', 'orchestrator', 'executor-worker', 'web'])
      expect(packages, name).toContain(name);
    expect(graph.get(path.join(REPO_ROOT, 'orchestrator/src/main.ts'))).toContain(
      path.join(REPO_ROOT, 'planning/src/index.ts'),
    );
    expect(graph.get(path.join(REPO_ROOT, 'web/src/components/plan-card.tsx'))).toContain(
      path.join(REPO_ROOT, 'contracts/src/index.ts'),
    );
    expect([...graph.values()].flat().length).toBeGreaterThan(files.length);
  });

  it('has no cycle', () => {
    expect(cycles(graph).map((files) => files.map(rel))).toEqual([]);
  });

  it('would see one: two files importing each other, a file importing itself, a longer loop', () => {
    const loop = new Map([
      ['a', ['b']],
      ['b', ['a', 'c']],
      ['c', []],
      ['d', ['d']],
      ['e', ['f']],
      ['f', ['g']],
      ['g', ['e', 'c']],
    ]);
    expect(cycles(loop)).toEqual([['a', 'b'], ['d'], ['e', 'f', 'g']]);
  });
});
