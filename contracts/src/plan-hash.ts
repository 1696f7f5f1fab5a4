import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth, so equal plans hash equal whatever their key order. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

/** SHA-256 of the canonical JSON of a validated plan: what an approval will bind to. */
export const planHash = (plan: unknown): string => createHash('sha256').update(canonicalJson(plan)).digest('hex');

/**
 * SHA-256 of a template version's shape: its plan with the `{{params.*}}` placeholders and its
 * parameters' schema (binds, types, constraints). A pre-approval binds to it; any edit changes it.
 */
export const templateShapeHash = (shape: { plan: unknown; parameters: unknown }): string =>
  planHash({ kind: 'opsc-template-shape', plan: shape.plan, parameters: shape.parameters });
