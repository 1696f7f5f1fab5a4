import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** An environment variable read in a source file, or a read whose name the code computes. */
export interface EnvRead {
  file: string;
  line: number;
  /** `undefined` when the name is not a literal (`process.env[name]`) and no caller names it either. */
  name: string | undefined;
}

const SKIP_DIRS = new Set(['node_modules', 'dist', '.next', 'test-results']);
const SOURCE = /\.(ts|tsx|js|mjs|cjs)$/;
const TEST = /\.test\.(ts|tsx|js)$/;

/** The production source files of a package folder: no tests, no build output. */
export const productionFiles = (root: string, dir: string): string[] => {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(child);
      } else if (SOURCE.test(entry.name) && !TEST.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        found.push(child);
      }
    }
  };
  walk(dir);
  return found;
};

const isProcessEnv = (node: ts.Node): boolean =>
  ts.isPropertyAccessExpression(node) &&
  node.name.text === 'env' &&
  ts.isIdentifier(node.expression) &&
  node.expression.text === 'process';

/**
 * Every `process.env` read of a file: `process.env.X`, `process.env['X']`, `const { X } = process.env`,
 * and the same through an alias (`const env = process.env`). A computed name (`env[name]`) inside
 * a function counts the literal first arguments of that function's calls in the same file.
 */
export const envReads = (root: string, file: string): EnvRead[] => {
  const text = readFileSync(path.join(root, file), 'utf8');
  if (!text.includes('process.env')) return [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const aliases = new Set<string>();
  const reads: EnvRead[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const isEnv = (node: ts.Node) => isProcessEnv(node) || (ts.isIdentifier(node) && aliases.has(node.text));
  // Aliases first, so that reads before the alias's declaration in source order are still seen.
  const findAliases = (node: ts.Node) => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      isProcessEnv(node.initializer)
    )
      aliases.add(node.name.text);
    ts.forEachChild(node, findAliases);
  };
  findAliases(source);
  const computed: { fn: string; param: number; node: ts.Node }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAccessExpression(node) && isEnv(node.expression))
      reads.push({ file, line: lineOf(node), name: node.name.text });
    if (ts.isElementAccessExpression(node) && isEnv(node.expression)) {
      const arg = node.argumentExpression;
      if (ts.isStringLiteralLike(arg)) reads.push({ file, line: lineOf(node), name: arg.text });
      else computed.push({ ...enclosingParam(arg), node });
    }
    if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer &&
      isEnv(node.initializer)
    ) {
      for (const el of node.name.elements) {
        const key = el.propertyName ?? el.name;
        if (!el.dotDotDotToken && (ts.isIdentifier(key) || ts.isStringLiteralLike(key)))
          reads.push({ file, line: lineOf(el), name: key.text });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const c of computed) {
    const names = callArguments(source, c.fn, c.param);
    if (names.length === 0) reads.push({ file, line: lineOf(c.node), name: undefined });
    for (const name of names) reads.push({ file, line: lineOf(c.node), name });
  }
  return reads;
};

/** For `env[name]` inside `const f = (name, …) => …`: the function's name and the parameter's place. */
const enclosingParam = (arg: ts.Expression): { fn: string; param: number } => {
  if (!ts.isIdentifier(arg)) return { fn: '', param: -1 };
  for (let node: ts.Node | undefined = arg.parent; node; node = node.parent) {
    if (ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node)) {
      const param = node.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === arg.text);
      if (param < 0) continue;
      const holder = ts.isFunctionDeclaration(node) ? node : node.parent;
      const fn =
        holder &&
        (ts.isVariableDeclaration(holder) || ts.isFunctionDeclaration(holder)) &&
        holder.name &&
        ts.isIdentifier(holder.name)
          ? holder.name.text
          : '';
      return { fn, param };
    }
  }
  return { fn: '', param: -1 };
};

const callArguments = (source: ts.SourceFile, fn: string, param: number): string[] => {
  if (!fn || param < 0) return [];
  const names: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === fn) {
      const arg = node.arguments[param];
      if (arg && ts.isStringLiteralLike(arg)) names.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
};
