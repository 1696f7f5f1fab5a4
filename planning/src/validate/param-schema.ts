import { z } from 'zod';
import type { ToolDefinition, ToolParam } from '@opsc/contracts';

/**
 * Characters that mean something to a shell. Templates quote every value and the executor quotes
 * it again, so none can act; but a plain parameter carrying one is an injection attempt or a
 * mistake, so it is refused. (Backslashes and parentheses stay allowed: Windows paths hold them.)
 */
const METACHARACTERS = /[;&|`$<>\n\r\0]/;
const METACHARACTER_MESSAGE = 'must not contain shell metacharacters (; & | ` $ < > or line breaks)';

const stringOf = (p: ToolParam, what: string) => {
  let s = z.string().max(p.maxLength ?? 4_096);
  if (p.pattern) s = s.regex(new RegExp(`^(?:${p.pattern})$`), { message: `must match ${p.pattern}` });
  return s.refine((v) => !METACHARACTERS.test(v), { message: `${what} ${METACHARACTER_MESSAGE}` });
};

const schemaOf = (p: ToolParam): z.ZodType => {
  switch (p.type) {
    case 'string':
      return p.enum ? z.enum(p.enum as [string, ...string[]]) : stringOf(p, 'a value');
    case 'script':
      return z
        .string()
        .min(1)
        .max(p.maxLength ?? 65_536);
    case 'integer': {
      let n = z.number().int();
      if (p.min !== undefined) n = n.min(p.min);
      if (p.max !== undefined) n = n.max(p.max);
      // A planner may write a number as text ("25"); the value is what counts.
      return z.preprocess((v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v), n);
    }
    case 'boolean':
      return z.boolean();
    case 'string-list':
      return z.array(stringOf(p, 'each item')).max(64);
  }
};

/** A zod schema for a tool's parameters: typed, defaults filled, unknown names refused. */
export const toolParamsSchema = (tool: ToolDefinition) =>
  z.strictObject(
    Object.fromEntries(
      Object.entries(tool.params).map(([name, p]) => {
        const base = schemaOf(p);
        return [name, p.default !== undefined ? base.default(p.default as never) : p.required ? base : base.optional()];
      }),
    ),
  );
