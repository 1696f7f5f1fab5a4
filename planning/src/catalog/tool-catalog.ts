import type { ToolDefinition, ToolPlace, ToolSummary } from '@opsc/contracts';

const words = (text: string): string[] => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/** The program a tool runs on the executor host, when it is a local command; else null. */
export const localProgramOf = (tool: ToolDefinition): string | null => {
  const action = tool.execution.executor as { method: string; command?: unknown } | undefined;
  return action?.method === 'local-command' && typeof action.command === 'string' ? action.command : null;
};

/**
 * The loaded, checked tools. A view of it may hide tools no executor can run now (a program not
 * installed): planners and the validator do not see them, and `unavailable` says why.
 */
export class ToolCatalog {
  private readonly byName: Map<string, ToolDefinition>;
  private readonly hidden: ReadonlyMap<string, string>;

  constructor(tools: readonly ToolDefinition[], hidden: ReadonlyMap<string, string> = new Map()) {
    this.byName = new Map(tools.map((t) => [t.name, t]));
    this.hidden = new Map([...hidden].filter(([name]) => this.byName.has(name)));
  }

  get(name: string): ToolDefinition | undefined {
    return this.hidden.has(name) ? undefined : this.byName.get(name);
  }

  all(): ToolDefinition[] {
    return [...this.byName.values()].filter((t) => !this.hidden.has(t.name));
  }

  get size(): number {
    return this.byName.size - this.hidden.size;
  }

  /** The same tools with these hidden (name -> why); the hidden set replaces this view's. */
  withUnavailable(reasons: ReadonlyMap<string, string>): ToolCatalog {
    return new ToolCatalog([...this.byName.values()], reasons);
  }

  /** Why a tool of the catalog is hidden from this view; undefined when it is not. */
  unavailable(name: string): string | undefined {
    return this.hidden.get(name);
  }

  /** Every hidden tool and why, by name. */
  unavailableTools(): { name: string; reason: string }[] {
    return [...this.hidden].map(([name, reason]) => ({ name, reason })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Hidden tools a request speaks of (by name or keyword), to tell the user why they are not offered. */
  unavailableFor(text: string): { name: string; reason: string }[] {
    const asked = new Set(words(text));
    return this.unavailableTools().filter(({ name }) => {
      const tool = this.byName.get(name)!;
      return [...words(tool.name), ...tool.keywords.flatMap(words)].some((w) => asked.has(w));
    });
  }

  /** What planners and people see of the tools: no templates. */
  summaries(): ToolSummary[] {
    return this.all().map((t) => ({
      name: t.name,
      description: t.description,
      risk: t.risk,
      places: Object.keys(t.execution) as ToolPlace[],
      params: Object.fromEntries(
        Object.entries(t.params).map(([name, p]) => [
          name,
          {
            type: p.type,
            description: p.description,
            required: p.required,
            ...(p.enum && { enum: p.enum }),
            ...(p.default !== undefined && { default: p.default }),
          },
        ]),
      ),
    }));
  }

  /** The tools whose names, keywords and descriptions share the most words with `text`. */
  closest(text: string, count = 3): ToolDefinition[] {
    const asked = new Set(words(text));
    const scored = this.all().map((tool) => {
      const strong = new Set([...words(tool.name), ...tool.keywords.flatMap(words)]);
      const weak = new Set(words(tool.description));
      let score = 0;
      for (const w of asked) score += strong.has(w) ? 3 : weak.has(w) && w.length > 3 ? 1 : 0;
      return { tool, score };
    });
    return scored
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score || a.tool.name.localeCompare(b.tool.name))
      .slice(0, count)
      .map((s) => s.tool);
  }
}
