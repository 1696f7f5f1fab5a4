import { EXECUTOR_TARGET, type JobResume, type Plan, type ResumedStep, type TargetRef } from '@opsc/contracts';
import type { JobTargets } from '../inventory/step-targets.js';

/** One recorded verdict of the job being retried (`step_results`): a step, or `<step>.rollback`, on a target. */
export interface RecordedResult {
  stepId: string;
  targetId: string;
  status: string | null;
  facts: Record<string, string> | null;
}

/** The finished job a retry is planned from, as recorded. */
export interface RetrySource {
  id: string;
  plan: Plan;
  targets: JobTargets;
  /** Set when the source is itself a retry: where its targets started and what they carried. */
  resume: JobResume | null;
  /** The first job of the source's lineage, when it is a retry. */
  rootJobId: string | null;
  results: readonly RecordedResult[];
}

/** A target the retry runs again, and from where (for the answer and the web page). */
export interface RetriedTarget {
  target: string;
  /** The step it starts at: id, name, 1-based number. */
  stepId: string;
  stepName: string;
  stepNumber: number;
  /** Steps it does not run again, by id: the job each stands from. */
  carried: Record<string, string>;
  /** Its changes were undone in the source job, so it starts again at its first step. */
  rolledBack: boolean;
}

export interface RetryPlan {
  targets: JobTargets;
  resume: JobResume;
  retried: RetriedTarget[];
}

const ROLLBACK = '.rollback';

/**
 * What retrying `source` runs: every target (and the executor's own column, for steps without
 * targets) that did not get through its steps, each from the first of its steps that does not
 * stand. A step stands on a target when it succeeded there, in this job or, for a step the job
 * carried, in the one before. A target any of whose changes the job undid (a `.rollback` verdict,
 * whatever it said) is back at its start, or half-changed: it starts again at its first step and
 * carries nothing. Null when every target got through.
 */
export const planRetry = (source: RetrySource): RetryPlan | null => {
  const { plan, targets: job } = source;
  const columns: TargetRef[] = [...job.targets];
  const executorColumn = plan.steps.some((s) => !s.targets) ? columns.push(EXECUTOR_TARGET) - 1 : -1;
  const stepsOf = (column: number): number[] =>
    plan.steps.flatMap((step, i) =>
      (step.targets ? (job.stepTargets[step.id] ?? []).includes(column) : column === executorColumn) ? [i] : [],
    );
  const byTarget = new Map<string, Map<string, RecordedResult>>();
  for (const r of source.results) {
    let rows = byTarget.get(r.targetId);
    if (!rows) byTarget.set(r.targetId, (rows = new Map()));
    rows.set(r.stepId, r);
  }

  const resume: JobResume = {
    retryOf: source.id,
    rootJobId: source.rootJobId ?? source.id,
    targets: {},
  };
  const retried: RetriedTarget[] = [];
  const kept: number[] = [];
  for (const [column, target] of columns.entries()) {
    const steps = stepsOf(column);
    if (steps.length === 0) continue;
    const rows = byTarget.get(target.id) ?? new Map<string, RecordedResult>();
    const prior = source.resume?.targets[target.id];
    const priorStart = prior?.start ?? 0;
    const undone = [...rows.keys()].some((id) => id.endsWith(ROLLBACK));
    const stands = (i: number): ResumedStep | null => {
      const step = plan.steps[i]!;
      if (i < priorStart) return prior?.done[step.id] ?? null;
      const row = rows.get(step.id);
      return row?.status === 'succeeded' ? { jobId: source.id, facts: row.facts } : null;
    };
    const done: Record<string, ResumedStep> = {};
    let start = steps[0]!;
    if (!undone) {
      const first = steps.find((i) => !stands(i));
      if (first === undefined) continue;
      start = first;
      for (const i of steps) if (i < start) done[plan.steps[i]!.id] = stands(i)!;
    }
    resume.targets[target.id] = { start, done };
    if (column !== executorColumn) kept.push(column);
    const step = plan.steps[start]!;
    retried.push({
      target: target.name,
      stepId: step.id,
      stepName: step.name,
      stepNumber: start + 1,
      carried: Object.fromEntries(Object.entries(done).map(([id, d]) => [id, d.jobId])),
      rolledBack: undone,
    });
  }
  if (retried.length === 0) return null;
  // The executor's column needs no entry when it has nothing left: its steps stand, shown done.
  if (executorColumn >= 0 && !resume.targets[EXECUTOR_TARGET.id]) {
    const steps = stepsOf(executorColumn);
    const rows = byTarget.get(EXECUTOR_TARGET.id);
    const prior = source.resume?.targets[EXECUTOR_TARGET.id];
    resume.targets[EXECUTOR_TARGET.id] = {
      start: plan.steps.length,
      done: Object.fromEntries(
        steps.map((i) => {
          const id = plan.steps[i]!.id;
          const before = i < (prior?.start ?? 0) ? prior?.done[id] : undefined;
          return [id, before ?? { jobId: source.id, facts: rows?.get(id)?.facts ?? null }];
        }),
      ),
    };
  }
  const newIndex = new Map(kept.map((old, i) => [old, i]));
  const stepTargets: Record<string, number[]> = {};
  for (const [id, indexes] of Object.entries(job.stepTargets))
    stepTargets[id] = indexes.flatMap((i) => (newIndex.has(i) ? [newIndex.get(i)!] : []));
  return { targets: { targets: kept.map((i) => job.targets[i]!), stepTargets }, resume, retried };
};
