import { z } from 'zod';
import { PLAN_TITLE_MAX, toPlainLine } from '@opsc/contracts';

/**
 * A model's answer, read leniently before the validator reads it strictly: the model writes steps
 * without ids (fewer tokens, nothing to get wrong), and this gives each one from its tool, as the
 * built-in planner does. Anything else passes through untouched, for the validator to judge.
 */
const StepLike = z.looseObject({ tool: z.unknown(), id: z.unknown().optional() });

const STEP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const draftOf = (args: Record<string, unknown>, request: string): Record<string, unknown> => {
  const { decision: _decision, ...rest } = args;
  const used = new Set<string>();
  const steps = Array.isArray(rest.steps)
    ? rest.steps.map((raw: unknown) => {
        const step = StepLike.safeParse(raw);
        if (!step.success) return raw;
        const given = typeof step.data.id === 'string' && STEP_ID.test(step.data.id) ? step.data.id : null;
        const base =
          given ??
          (typeof step.data.tool === 'string' ? step.data.tool.replace(/[^A-Za-z0-9_-]/g, '') || 'step' : 'step');
        let id = base;
        for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
        used.add(id);
        return { ...step.data, id };
      })
    : rest.steps;
  const name =
    typeof rest.name === 'string' && rest.name.trim() ? rest.name.trim().slice(0, 200) : request.slice(0, 200);
  // The model's name is asked for as a short title: kept as the plan's title for display only, made
  // one bounded line of plain text whatever the model wrote (a title never makes a plan invalid).
  // A title it wrote besides (not asked for) is made the same plain line, never passed on raw.
  const { title: own, ...others } = rest;
  const plain = (v: unknown) => (typeof v === 'string' ? toPlainLine(v, PLAN_TITLE_MAX) : '');
  const title = plain(rest.name) || plain(own);
  return { ...others, name, ...(title && { title }), steps, request };
};

export const RefusalArgs = z.object({
  message: z.string().min(1).max(2_000),
  closestTools: z.array(z.string()).max(10).default([]),
});
