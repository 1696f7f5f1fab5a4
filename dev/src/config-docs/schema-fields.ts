import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One variable of a service's env schema, as the reference shows it. */
export interface EnvField {
  name: string;
  /** The default as text; `undefined` when the variable has none. */
  defaultText: string | undefined;
  /** Neither a default nor `.optional()`: the service does not start without it. */
  required: boolean;
  /** Allowed values (`z.enum`), or a number range (`min`/`max` on a number). */
  allowed: string | undefined;
  description: string;
}

/** Where a service's env schema is: the file and the exported `z.object({...})` constant. */
export interface EnvSchemaSource {
  service: string;
  file: string;
  exportName: string;
}

/** The env schemas of the deployables; the reference is generated from these files. */
export const ENV_SCHEMAS: EnvSchemaSource[] = [
  { service: 'orchestrator', file: 'orchestrator/src/env.ts', exportName: 'OrchestratorEnv' },
  { service: 'executor-worker', file: 'executor-worker/src/env.ts', exportName: 'ExecutorEnv' },
  { service: 'web', file: 'web/src/env.ts', exportName: 'WebEnv' },
];

const fail = (source: EnvSchemaSource, what: string): never => {
  throw new Error(`${source.file} (${source.exportName}): ${what}`);
};

/** The calls of a chain like `z.coerce.number().int().min(1).default(30)`, outermost first, and what it starts from. */
const chainOf = (
  expr: ts.Expression,
): { calls: { name: string; args: readonly ts.Expression[] }[]; base: ts.Expression } => {
  const calls: { name: string; args: readonly ts.Expression[] }[] = [];
  let node: ts.Expression = expr;
  for (;;) {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      calls.push({ name: node.expression.name.text, args: node.arguments });
      node = node.expression.expression;
    } else if (ts.isPropertyAccessExpression(node)) {
      node = node.expression;
    } else {
      return { calls, base: node };
    }
  }
};

/** Top-level `const NAME = <initializer>` of the file, so a default may name a constant. */
const constants = (file: ts.SourceFile): Map<string, ts.Expression> => {
  const found = new Map<string, ts.Expression>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const decl of statement.declarationList.declarations) {
      if (ts.isIdentifier(decl.name) && decl.initializer) found.set(decl.name.text, decl.initializer);
    }
  }
  return found;
};

/** A default value as the reference prints it: a string as it is, a number without separators, a list comma-joined. */
const literalText = (expr: ts.Expression, consts: Map<string, ts.Expression>, source: EnvSchemaSource): string => {
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return expr.text;
  if (ts.isNumericLiteral(expr)) return String(Number(expr.text.replace(/_/g, '')));
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return 'true';
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return 'false';
  if (ts.isArrayLiteralExpression(expr)) return expr.elements.map((e) => literalText(e, consts, source)).join(',');
  if (ts.isIdentifier(expr)) {
    const value = consts.get(expr.text);
    if (value) return literalText(value, consts, source);
  }
  // `LIST.split(',')`: the constant's text is the list as the variable would spell it.
  if (
    ts.isCallExpression(expr) &&
    ts.isPropertyAccessExpression(expr.expression) &&
    expr.expression.name.text === 'split'
  ) {
    return literalText(expr.expression.expression, consts, source);
  }
  return fail(source, `cannot print the default ${expr.getText()}; use a literal or a top-level constant`);
};

const docComment = (node: ts.Node, file: ts.SourceFile): string => {
  const ranges = ts.getLeadingCommentRanges(file.text, node.getFullStart()) ?? [];
  const docs = ranges.map((r) => file.text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
  const last = docs.at(-1);
  if (!last) return '';
  return last
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trim())
    .filter(Boolean)
    .join(' ');
};

/** Reads one env schema's variables from its source: names, defaults, allowed values and TSDoc descriptions. */
export const readEnvSchema = (repoRoot: string, source: EnvSchemaSource): EnvField[] => {
  const text = readFileSync(path.join(repoRoot, source.file), 'utf8');
  const file = ts.createSourceFile(source.file, text, ts.ScriptTarget.Latest, true);
  const consts = constants(file);
  const init = consts.get(source.exportName) ?? fail(source, 'not found');
  const { calls } = chainOf(init);
  const objectCall = calls.at(-1);
  const shape = objectCall?.name === 'object' ? objectCall.args[0] : undefined;
  if (!shape || !ts.isObjectLiteralExpression(shape)) return fail(source, 'is not z.object({ ... })');
  return shape.properties.map((prop) => {
    if (!ts.isPropertyAssignment(prop)) return fail(source, `${prop.getText()}: not a plain property`);
    const name = prop.name.getText(file);
    const chain = chainOf(prop.initializer);
    const defaultCall = chain.calls.find((c) => c.name === 'default');
    const enumCall = chain.calls.find((c) => c.name === 'enum');
    const isNumber = chain.calls.some((c) => c.name === 'number');
    const bound = (which: string) => {
      const arg = chain.calls.find((c) => c.name === which)?.args[0];
      return arg && ts.isNumericLiteral(arg) ? literalText(arg, consts, source) : undefined;
    };
    let allowed: string | undefined;
    if (enumCall?.args[0])
      allowed = literalText(enumCall.args[0], consts, source)
        .split(',')
        .map((v) => `\`${v}\``)
        .join(', ');
    else if (isNumber && bound('min') !== undefined && bound('max') !== undefined)
      allowed = `${bound('min')} to ${bound('max')}`;
    const description = docComment(prop, file);
    if (!description) fail(source, `${name} has no TSDoc comment; the configuration reference is made from it`);
    return {
      name,
      defaultText: defaultCall?.args[0] ? literalText(defaultCall.args[0], consts, source) : undefined,
      required: !defaultCall && !chain.calls.some((c) => c.name === 'optional'),
      allowed,
      description,
    };
  });
};
