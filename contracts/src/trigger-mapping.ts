import { z } from 'zod';
import { ParamValue, TemplateParamName } from './template-schema.js';

/*
 * A trigger's mapping fills a template's parameters from a delivery's JSON payload. It is data, not
 * code: each parameter takes a constant, or the value at a path in the payload. The path language is
 * small on purpose: `$` (the payload), `.name`, `['any key']`, `[0]` (an index) and `[*]` (every item
 * of a list or value of an object, which makes the result a list). Only the payload's own keys are
 * read (never a prototype's), and what a path finds must be text, a number, a boolean, or a list of them.
 */

type Segment = { key: string } | { index: number } | { all: true };

const MAX_SEGMENTS = 16;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*/;
const QUOTED = /^\['([^'\\]{1,200})'\]/;
const INDEX = /^\[(\d{1,6})\]/;

/** The path's segments, or the reason it is not one. */
export const parsePayloadPath = (path: string): { segments: Segment[] } | { problem: string } => {
  if (!path.startsWith('$')) return { problem: 'a path starts with $ (the payload), e.g. $.labels.service' };
  const segments: Segment[] = [];
  let rest = path.slice(1);
  while (rest) {
    if (segments.length === MAX_SEGMENTS) return { problem: `a path has at most ${MAX_SEGMENTS} steps` };
    let m: RegExpExecArray | null;
    if (rest.startsWith('.') && (m = NAME.exec(rest.slice(1)))) {
      segments.push({ key: m[0] });
      rest = rest.slice(1 + m[0].length);
    } else if ((m = QUOTED.exec(rest))) {
      segments.push({ key: m[1]! });
      rest = rest.slice(m[0].length);
    } else if ((m = INDEX.exec(rest))) {
      segments.push({ index: Number(m[1]) });
      rest = rest.slice(m[0].length);
    } else if (rest.startsWith('[*]')) {
      segments.push({ all: true });
      rest = rest.slice(3);
    } else
      return {
        problem: `cannot read the path from "${rest.slice(0, 20)}": use .name, ['any key'], [0] or [*]`,
      };
  }
  return { segments };
};

export const PayloadPath = z
  .string()
  .min(1)
  .max(300)
  .superRefine((path, ctx) => {
    const parsed = parsePayloadPath(path);
    if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
  });

/** Where one parameter's value comes from: the payload (a default when the path finds nothing), or a constant. */
export const MappingSource = z.union([
  z.strictObject({ from: PayloadPath, default: ParamValue.optional() }),
  z.strictObject({ value: ParamValue }),
]);
export type MappingSource = z.infer<typeof MappingSource>;

/** Parameters by name; those not mapped take the template's defaults. */
export const TriggerMapping = z
  .record(TemplateParamName, MappingSource)
  .refine((m) => Object.keys(m).length <= 30, { message: 'maps at most 30 parameters' });
export type TriggerMapping = z.infer<typeof TriggerMapping>;

const own = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;

const isScalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** What the path finds: the value, `undefined` for nothing, or every value found under a `[*]`. */
const walk = (value: unknown, segments: Segment[]): { found: unknown[]; many: boolean } => {
  let current: unknown[] = [value];
  let many = false;
  for (const s of segments) {
    const next: unknown[] = [];
    for (const v of current) {
      if ('key' in s) next.push(own(v, s.key));
      else if ('index' in s) next.push(Array.isArray(v) ? v[s.index] : undefined);
      else if (Array.isArray(v)) next.push(...v);
      else if (v !== null && typeof v === 'object') next.push(...Object.values(v));
    }
    if ('all' in s) many = true;
    current = next.filter((v) => v !== undefined && v !== null);
  }
  return { found: current, many };
};

export type PathResult = { value: ParamValue } | { problem: string };

/** The value at `path` in `payload`, as a parameter may take it, or why there is none. */
export const readPayloadPath = (payload: unknown, path: string): PathResult => {
  const parsed = parsePayloadPath(path);
  if ('problem' in parsed) return parsed;
  const { found, many } = walk(payload, parsed.segments);
  if (!many) {
    const v = found[0];
    if (v === undefined) return { problem: `the payload has no value at ${path}` };
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return { value: v };
    if (!isScalar(v)) return { problem: `${path} holds ${Array.isArray(v) ? 'a list' : 'an object'}, not a value` };
    return { value: v };
  }
  if (found.length === 0) return { problem: `the payload has no value at ${path}` };
  if (!found.every(isScalar)) return { problem: `${path} finds objects or lists, not values` };
  return { value: [...new Set(found.map(String))] };
};

export interface MappedParams {
  params: Record<string, ParamValue>;
  /** Problems, each naming `params.<name>` and the payload path. */
  issues: { path: string; message: string }[];
  /** The payload path each parameter came from, to name it in later errors. */
  sources: Record<string, string>;
}

/** Fills the parameters a mapping names from a payload. */
export const applyMapping = (mapping: TriggerMapping, payload: unknown): MappedParams => {
  const out: MappedParams = { params: {}, issues: [], sources: {} };
  for (const [name, source] of Object.entries(mapping)) {
    if ('value' in source) {
      out.params[name] = source.value;
      continue;
    }
    out.sources[name] = source.from;
    const read = readPayloadPath(payload, source.from);
    if ('value' in read) out.params[name] = read.value;
    else if (source.default !== undefined) out.params[name] = source.default;
    else out.issues.push({ path: `params.${name}`, message: `${read.problem} (mapped from ${source.from})` });
  }
  return out;
};
