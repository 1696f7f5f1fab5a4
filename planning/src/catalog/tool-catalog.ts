import type { ToolDefinition, ToolPlace, ToolSummary } from '@opsc/contracts';

const words = (text: string): string[] => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/** The loaded, checked tools. */
export class ToolCatalog {
  private readonly byName: Map<string, ToolDefinition>;

  constructor(tools: readonly ToolDefinition[]) {
    this.byName = new Map(tools.map((t) => [t.name, t]));
  }

  get(name: string): ToolDefinition | undefined {
    return this.byName.get(name);
  }

  all(): ToolDefinition[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
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
