import { Cell, type JobProgress, type Plan, type StepProgress } from '@opsc/contracts';

type Counts = StepProgress['targets'];

/** One step of the plan as the operator wrote it: a mixed group's Linux and Windows variants are one. */
export interface StepPhase {
  id: string;
  name: string;
  /** Indexes into `progress.steps` (and `matrix`): one, or the variants run at the same time. */
  indexes: number[];
  status: StepProgress['status'];
  /** The variants' counts added up. */
  targets: Counts;
  startedAt?: string;
  finishedAt?: string;
  /** The variants, each with its own counts; a single-step phase has one. */
  variants: { id: string; os: string; targets: Counts }[];
}

const OS_SUFFIX = / \((linux|windows|any)\)$/;

const add = (a: Counts, b: Counts): Counts => ({
  total: a.total + b.total,
  completed: a.completed + b.completed,
  failed: a.failed + b.failed,
  running: a.running + b.running,
  pending: a.pending + b.pending,
  skipped: a.skipped + b.skipped,
  rolledBack: a.rolledBack + b.rolledBack,
  ...((a.doneBefore !== undefined || b.doneBefore !== undefined) && {
    doneBefore: (a.doneBefore ?? 0) + (b.doneBefore ?? 0),
  }),
});

const statusOf = (steps: StepProgress[]): StepProgress['status'] => {
  const has = (s: string) => steps.some((x) => x.status === s);
  if (has('running')) return 'running';
  if (steps.every((x) => x.status === 'pending')) return 'pending';
  if (has('pending')) return 'running';
  if (has('failed')) return 'failed';
  if (steps.every((x) => x.status === 'skipped')) return 'skipped';
  return 'succeeded';
};

const earliest = (times: (string | undefined)[]) => times.filter(Boolean).sort()[0];
const latest = (times: (string | undefined)[]) => times.filter(Boolean).sort().at(-1);

/**
 * The job's steps grouped as the workflow runs them: consecutive OS variants of one plan step
 * (`variantOf`) are one step, run in one window, so "Step 1 of 1" where the plan has one step.
 */
export const stepPhases = (progress: JobProgress, plan?: Plan): StepPhase[] => {
  const groups: number[][] = [];
  progress.steps.forEach((_, i) => {
    const variantOf = plan?.steps[i]?.variantOf;
    const last = groups.at(-1);
    if (last && variantOf && plan?.steps[last[0]!]?.variantOf === variantOf) last.push(i);
    else groups.push([i]);
  });
  return groups.map((indexes) => {
    const steps = indexes.map((i) => progress.steps[i]!);
    const first = steps[0]!;
    const variants = indexes.map((i) => ({
      id: progress.steps[i]!.id,
      os: plan?.steps[i]?.targets?.os ?? OS_SUFFIX.exec(progress.steps[i]!.name)?.[1] ?? progress.steps[i]!.id,
      targets: progress.steps[i]!.targets,
    }));
    const startedAt = earliest(steps.map((s) => s.startedAt));
    const finishedAt = steps.every((s) => s.finishedAt) ? latest(steps.map((s) => s.finishedAt)) : undefined;
    return {
      id: indexes.length > 1 ? (plan?.steps[indexes[0]!]?.variantOf ?? first.id) : first.id,
      name: indexes.length > 1 ? first.name.replace(OS_SUFFIX, '') : first.name,
      indexes,
      status: statusOf(steps),
      targets: steps.slice(1).reduce((sum, s) => add(sum, s.targets), first.targets),
      ...(startedAt && { startedAt }),
      ...(finishedAt && { finishedAt }),
      variants,
    };
  });
};

/** The phase the job is at: the one holding its current step (the first before it starts). */
export const currentPhase = (phases: StepPhase[], progress: JobProgress): number => {
  const at = phases.findIndex((p) => p.indexes.includes(progress.currentStep - 1));
  return Math.max(0, at);
};

/** The targets running in a phase, by name, from the job's matrix. */
export const runningIn = (phase: StepPhase | undefined, progress: JobProgress): string[] => {
  if (!phase) return [];
  const names = new Set<string>();
  for (const i of phase.indexes)
    for (const [t, code] of [...(progress.matrix[i] ?? '')].entries())
      if (code === Cell.running) names.add(progress.targets[t] ?? String(t));
  return [...names];
};
