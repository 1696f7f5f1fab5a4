import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import {
  LINUX_CHECK_OPS,
  placeholdersIn,
  ToolDefinition,
  WINDOWS_CHECK_OPS,
  walkStrings,
  type ToolPlace,
} from '@opsc/contracts';
import { ToolCatalog } from './tool-catalog.js';

/** A tool file that cannot be used: which file, which line, which field, and why. Start-up stops on it. */
export class ToolCatalogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${field ? `${field}: ` : ''}${reason}`);
    this.name = 'ToolCatalogError';
  }
}

const METHODS_BY_PLACE: Record<ToolPlace, readonly string[]> = {
  linux: ['ssh'],
  windows: ['winrm'],
  any: ['database'],
  executor: ['local-command', 'http'],
  workflow: ['timer'],
};
/** The filter a value spliced into a script must carry, by the method that runs the script. */
const SCRIPT_FILTER: Record<string, 'sh' | 'ps'> = { ssh: 'sh', winrm: 'ps' };

type Path = (string | number)[];

/** Parses and checks one tool file; every error names the file, the line and the field. */
export const parseToolFile = (text: string, file: string): ToolDefinition => parseToolSource(text, file).tool;

const parseToolSource = (text: string, file: string): { tool: ToolDefinition; lineOf: (at: Path) => number } => {
  const lines = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError)
    throw new ToolCatalogError(
      file,
      lines.linePos(yamlError.pos[0]).line,
      '',
      yamlError.message.split('\n')[0] ?? 'invalid YAML',
    );
  const lineOf = (at: Path): number => {
    for (let depth = at.length; depth >= 0; depth--) {
      const node = doc.getIn(at.slice(0, depth), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return 1;
  };
  const fail = (at: Path, reason: string): never => {
    throw new ToolCatalogError(file, lineOf(at), at.join('.'), reason);
  };

  const parsed = ToolDefinition.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail((issue?.path ?? []) as Path, issue?.message ?? 'invalid tool');
    throw new Error('unreachable');
  }
  const tool = parsed.data;
  const params = new Set(Object.keys(tool.params));

  for (const [place, template] of Object.entries(tool.execution) as [ToolPlace, { method: string }][]) {
    const at: Path = ['execution', place];
    if (!METHODS_BY_PLACE[place].includes(template.method)) {
      fail(
        [...at, 'method'],
        `a ${place} template runs with ${METHODS_BY_PLACE[place].join(' or ')}, not ${template.method}`,
      );
    }
    walkStrings(template, (text, where) => {
      for (const ph of placeholdersIn(text)) {
        if (ph.name.startsWith('facts.'))
          fail([...at, ...where], `{{${ph.name}}}: facts exist only after a run, in rollback parameters`);
        if (!params.has(ph.name)) fail([...at, ...where], `{{${ph.name}}} is not a parameter of ${tool.name}`);
        const inScript = where.includes('script') || where.includes('query');
        if (inScript && !ph.whole) {
          const wanted = SCRIPT_FILTER[template.method];
          if (!wanted)
            fail(
              [...at, ...where],
              `{{${ph.name}}}: values cannot be spliced into SQL; make the whole statement a parameter`,
            );
          if (ph.filter !== wanted)
            fail(
              [...at, ...where],
              `{{${ph.name}}} is spliced into a script: write {{${ph.name}|${wanted}}} so it is quoted`,
            );
        }
        if (!inScript && (ph.filter === 'sh' || ph.filter === 'ps'))
          fail(
            [...at, ...where],
            `{{${ph.name}|${ph.filter}}}: quoting filters belong in scripts; other fields take the value as it is`,
          );
        if (tool.params[ph.name]?.type === 'script' && !(inScript && ph.whole))
          fail([...at, ...where], `the script parameter ${ph.name} can only be a whole script field`);
      }
    });
  }
  for (const os of ['linux', 'windows'] as const) {
    const template = tool.check?.[os] as { method: string; operation?: { op?: unknown } } | undefined;
    if (!template) continue;
    const at: Path = ['check', os];
    if (!METHODS_BY_PLACE[os].includes(template.method))
      fail([...at, 'method'], `a ${os} check runs with ${METHODS_BY_PLACE[os].join(' or ')}, not ${template.method}`);
    const ops: ReadonlySet<unknown> = os === 'linux' ? LINUX_CHECK_OPS : WINDOWS_CHECK_OPS;
    if (!ops.has(template.operation?.op))
      fail(
        [...at, 'operation', 'op'],
        `a check runs a read-only check operation (${[...ops].join(', ')}), not ${String(template.operation?.op)}`,
      );
    walkStrings(template, (text, where) => {
      for (const ph of placeholdersIn(text)) {
        if (ph.filter || !params.has(ph.name))
          fail(
            [...at, ...where],
            `{{${ph.name}${ph.filter ? `|${ph.filter}` : ''}}} is not a parameter of ${tool.name}`,
          );
      }
    });
  }
  for (const ph of placeholdersIn(tool.summary)) {
    if (ph.filter || !params.has(ph.name))
      fail(['summary'], `{{${ph.name}${ph.filter ? `|${ph.filter}` : ''}}} is not a parameter of ${tool.name}`);
  }
  for (const key of ['rollback', 'verify'] as const) {
    const call = key === 'rollback' ? tool.rollback : tool.validation.verify;
    const at: Path = key === 'rollback' ? ['rollback', 'params'] : ['validation', 'verify', 'params'];
    walkStrings(call?.params ?? {}, (text, where) => {
      for (const ph of placeholdersIn(text)) {
        if (ph.filter) fail([...at, ...where], 'parameters of another tool take values, not quoted text');
        if (!ph.name.startsWith('facts.') && !params.has(ph.name))
          fail([...at, ...where], `{{${ph.name}}} is not a parameter of ${tool.name}`);
        if (ph.name.startsWith('facts.') && key === 'verify')
          fail([...at, ...where], 'a verification cannot use facts');
      }
    });
  }
  return { tool, lineOf };
};

/**
 * Loads every `*.yaml` / `*.yml` of the folders, in order (a later folder may not reuse a name),
 * then checks that rollbacks and verifications name tools that exist.
 */
export const loadCatalog = async (dirs: readonly string[]): Promise<ToolCatalog> => {
  const tools = new Map<string, { tool: ToolDefinition; file: string; lineOf: (at: Path) => number }>();
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch (err) {
      throw new ToolCatalogError(
        dir,
        0,
        '',
        `cannot read the tool folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    for (const entry of entries) {
      const file = path.join(dir, entry);
      const { tool, lineOf } = parseToolSource(await readFile(file, 'utf8'), file);
      const earlier = tools.get(tool.name);
      if (earlier)
        throw new ToolCatalogError(
          file,
          lineOf(['name']),
          'name',
          `${tool.name} is already defined in ${earlier.file}`,
        );
      tools.set(tool.name, { tool, file, lineOf });
    }
  }
  for (const { tool, file, lineOf } of tools.values()) {
    const calls = [
      [['rollback', 'tool'], tool.rollback],
      [['validation', 'verify', 'tool'], tool.validation.verify],
    ] as const;
    for (const [at, call] of calls) {
      if (call && !tools.has(call.tool))
        throw new ToolCatalogError(file, lineOf([...at]), at.join('.'), `no tool named ${call.tool} in the catalog`);
    }
  }
  return new ToolCatalog([...tools.values()].map((t) => t.tool));
};
