import type { PlanProposal, PlanSummary } from './api/plans.js';
import { formatEtaRange } from './eta.js';
import type { PlanDraft } from './plan-draft.js';
import type { RiskLevel } from './tools.js';

/*
 * The planner's answer as a person reads it, in the seed's "AI Response" shape. Rendered here once:
 * the API joins it into the proposal's `text`, the web app's plan card lays out the same parts.
 */

/** "about 4 minutes" for an ETA in seconds. */
export const aboutDuration = (seconds: number): string => {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} seconds`;
  const minutes = seconds / 60;
  if (minutes < 90) return `about ${Math.round(minutes)} minutes`;
  return `about ${(minutes / 60).toFixed(1)} hours`;
};

/** A ready plan's answer, in parts. */
export interface PlanAnswer {
  /** "I'll do this: <name>. This will:" */
  opening: string;
  /** What will happen: each step, the planner's notes, what happens on a failure. */
  checks: string[];
  /** "5 (5 Linux)". */
  targets: string;
  risk: RiskLevel;
  /** "3–5 minutes", or "about 4 minutes" for a plan estimated from the tools' typical durations alone. */
  eta: string;
  /** How sure the range is and why: "low confidence: no history for 5 of 5 targets; ...". */
  etaWhy: string | null;
  warnings: string[];
  /** For a plan that changes something: the offer to run it in check mode first (offered before approval). */
  checkMode: string | null;
  /** Whether approval is needed, and why. */
  approval: string;
  question: string;
}

const OS_NAME: Record<string, string> = { linux: 'Linux', windows: 'Windows' };

/** A ready plan's answer from its summary and draft; `notes` are what the planner adds (capitalised here). */
export const planAnswer = (
  summary: PlanSummary,
  draft: PlanDraft | null,
  notes: readonly string[] = [],
): PlanAnswer => {
  const os = Object.entries(summary.targets.byOs)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${OS_NAME[o] ?? o}`);
  const checks = [...summary.bullets, ...notes.map((note) => `${note.charAt(0).toUpperCase()}${note.slice(1)}`)];
  if (draft?.policies.continueOnFailure)
    checks.push(
      `Continue with the other targets when one fails (stop above ${draft.policies.maxFailPercentage}% failed)`,
    );
  if (draft && draft.policies.rollback !== 'none' && summary.risk !== 'read') {
    checks.push(
      `Roll back ${draft.policies.rollback === 'all' ? 'every target' : 'a failed target'}'s completed changes`,
    );
  }
  return {
    opening: `I'll ${draft?.name ? `do this: ${draft.name}` : 'run this plan'}. This will:`,
    checks,
    targets: `${summary.targets.total}${os.length ? ` (${os.join(', ')})` : ''}`,
    risk: summary.risk,
    eta: summary.eta
      ? formatEtaRange(summary.eta.lowSeconds, summary.eta.highSeconds)
      : aboutDuration(summary.etaSeconds),
    etaWhy: summary.eta ? `${summary.eta.confidence} confidence: ${summary.eta.reason}` : null,
    warnings: summary.warnings,
    checkMode:
      summary.risk === 'read'
        ? null
        : 'Check mode first: each step reports what it would change on each target (versions, file hashes, service states), changing nothing and needing no approval.',
    approval: summary.approvalRequired
      ? `Approval required: ${summary.approvalReasons.join('; ')}.`
      : 'No approval needed: nothing is changed.',
    question:
      summary.risk === 'read'
        ? summary.approvalRequired
          ? 'Would you like me to request approval?'
          : 'Would you like me to proceed?'
        : summary.approvalRequired
          ? 'Would you like me to run it in check mode, or request approval?'
          : 'Would you like me to run it in check mode, or proceed?',
  };
};

/** A refusal's answer: why, and the closest tools when there are any. */
export const refusalAnswer = (refusal: PlanProposal['refusal']): { message: string; closestTools: string | null } => ({
  message: refusal?.message ?? "I can't plan that.",
  closestTools: refusal?.closestTools.length
    ? `Closest tools: ${refusal.closestTools.map((t) => `${t.name} (${t.description})`).join('; ')}`
    : null,
});

/** The heading of an answer that needs input; each question follows. */
export const NEEDS_INPUT = 'I can plan this, but I need to know more first:';

/** The whole answer as text: the proposal's `text`. */
export const proposalText = (
  p: Pick<PlanProposal, 'status' | 'summary' | 'draft' | 'missing' | 'issues' | 'refusal'>,
  notes: readonly string[] = [],
): string => {
  if (p.status === 'refused') {
    const { message, closestTools } = refusalAnswer(p.refusal);
    return closestTools ? `${message}\n${closestTools}` : message;
  }
  if (p.summary) {
    const a = planAnswer(p.summary, p.draft, notes);
    return [
      a.opening,
      ...a.checks.map((c) => `✓ ${c}`),
      '',
      `Targets: ${a.targets}. Risk: ${a.risk}.`,
      `Estimated completion time: ${a.eta}${a.etaWhy ? ` (${a.etaWhy})` : ''}.`,
      ...a.warnings.map((w) => `⚠ ${w}`),
      ...(a.checkMode ? [a.checkMode] : []),
      a.approval,
      a.question,
    ].join('\n');
  }
  // The planner's notes (a name it did not know, text it did not use) follow whatever it asks or reports.
  const said = notes.map((note) => `• ${note.charAt(0).toUpperCase()}${note.slice(1)}`);
  if (p.status === 'needs-input') return [NEEDS_INPUT, ...p.missing.map((m) => `? ${m.question}`), ...said].join('\n');
  return ['The plan does not validate:', ...p.issues.map((i) => `✗ ${i.path}: ${i.message}`), ...said].join('\n');
};
