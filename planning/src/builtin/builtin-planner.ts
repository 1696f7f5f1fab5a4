import {
  remoteCommandReadOnly,
  summarizeSteps,
  type DraftStep,
  type OsFamily,
  type PlanDraftInput,
} from '@opsc/contracts';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { carryContext, EXECUTOR_KINDS, shape, toStep } from './compose.js';
import { conditionNote, conditionRefusal, conditionsIn, scheduleNotes } from './caveats.js';
import { extractEntities, type InventorySketch } from './entities.js';
import { unorderedNote, withoutTableChanges } from './database-intents.js';
import { intentsOf, UNSUPPORTED, type Intent } from './intents.js';
import { neutralizeInventoryNames, restoreNames } from './inventory-names.js';
import { cutShellOperators, unusedClauseNote } from './leftovers.js';
import { cutPolicyPhrases, readPolicies } from './policies.js';
import { clausesOf, maskSpans } from './spans.js';
import { exclusionIn, exclusionRefusal, placeSteps, unusedNameNotes } from './targets.js';

export interface PlannerRequest {
  request: string;
  inventory: InventorySketch;
  catalog: ToolCatalog;
}

/** A planner's answer before validation: a draft, or an honest refusal. */
export type PlannerAnswer =
  | { kind: 'plan'; draft: PlanDraftInput; notes: string[]; expectedTargets?: { count: number; os?: OsFamily } }
  | { kind: 'refusal'; message: string; closestTools: string[] };

const capitalised = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

/** Whether a drafted step only looks, as far as the draft can tell (the validator decides). */
const stepReads = (step: Omit<DraftStep, 'id'>, catalog: ToolCatalog): boolean => {
  const p = step.params as Record<string, unknown>;
  if (step.tool === 'wait') return true;
  if (step.tool === 'run-command') {
    const program = String(p.program);
    const args = (p.args as string[]) ?? [];
    return remoteCommandReadOnly('ssh', program, args) || remoteCommandReadOnly('winrm', program, args);
  }
  if (step.tool === 'database-query') return p.allowWrites !== true;
  return catalog.get(step.tool)?.risk === 'read';
};

/**
 * The embedded planner: deterministic, no network. It reads the intents of the request in order
 * (check, stop, copy, start, verify...), the entities it names (groups, hosts, services,
 * processes, packages, paths), and composes a draft; what it cannot fill it leaves for the
 * validator to ask. A request it does not understand gets an honest refusal with the nearest
 * tools, never a guess that runs something; what it could not use is named in its notes.
 */
export const builtinPlan = ({ request, inventory: fullInventory, catalog }: PlannerRequest): PlannerAnswer => {
  const original = request.trim();
  const refuse = (message: string, notes: string[] = []): PlannerAnswer => ({
    kind: 'refusal',
    message: [message, ...notes.map(capitalised)].join('\n'),
    closestTools: catalog.closest(original).map((t) => t.name),
  });
  if (!original) return refuse('The request is empty: tell me what to do and on which servers.');
  // Inventory names are read as names only: every one the request mentions becomes an opaque token.
  const { text: neutral, inventory, nameOf } = neutralizeInventoryNames(original, fullInventory);
  const shell = cutShellOperators(neutral, maskSpans(neutral), nameOf);
  const { text, masked } = cutPolicyPhrases(shell.text, shell.masked);
  const notes = [...shell.notes];

  const e = extractEntities(text, inventory);
  // "every server except db-01": an exclusion the planner cannot select, never planned without it.
  const exclusion = exclusionIn(text, masked);
  if (exclusion) return refuse(exclusionRefusal(nameOf(exclusion)), notes);
  const readings: Intent[] = [];
  const clauses = clausesOf(text, masked);
  for (const [at, clause] of clauses.entries()) {
    const reading = intentsOf(clause, e);
    if ('refusal' in reading) return refuse(nameOf(reading.refusal), notes);
    if (reading.length === 0) {
      const note = unusedClauseNote(clause, nameOf);
      if (note) notes.push(note);
    }
    readings.push(...reading.map((r) => ({ ...r, at })));
  }
  // Code in backticks that no step took ("service `nginx; systemctl stop sshd`") is named, never run.
  const usedCode = new Set(
    readings.flatMap((r) =>
      r.kind === 'run-script'
        ? [r.script]
        : r.kind === 'database-query'
          ? [r.query]
          : r.kind === 'run-command'
            ? [[r.program, ...r.args].join(' ')]
            : r.kind === 'process-check'
              ? [r.process]
              : [],
    ),
  );
  for (const code of e.code)
    if (!usedCode.has(code) && !usedCode.has(code.trim().split(/\s+/).join(' ')))
      notes.push(`not used: \`${nameOf(code)}\`: no step of mine takes it there, so it is not run`);
  const unsupported = UNSUPPORTED.exec(withoutTableChanges(masked))?.[0];
  if (unsupported)
    return refuse(
      `I can't plan "${unsupported}": none of my tools does that, and I won't guess at something that changes servers. The closest tools are listed; a run-script step written by you can do it, with approval.`,
      notes,
    );
  const intents = shape(carryContext(readings, e));
  if (intents.length === 0) return refuse("I can't plan that: I found nothing in it that my tools do.", notes);

  const needsTargets = intents.some((i) => !EXECUTOR_KINDS.has(i.kind));
  const stepful = clauses.map((_, at) => readings.some((r) => r.at === at));
  const placement = needsTargets
    ? placeSteps(clauses, stepful, e, masked, inventory, fullInventory)
    : { at: () => undefined, notes: [] };
  notes.push(...placement.notes.map(nameOf));
  if (needsTargets && !placement.at(undefined)) {
    // The steps are clear, where is not: the draft goes on without targets and the validator asks.
    const known = fullInventory.groups
      .map((g) => `'${g.name}'`)
      .slice(0, 10)
      .join(', ');
    notes.push(`the request does not say which servers: name a group${known ? ` (${known})` : ''} or target names`);
  }
  if (/\b(log|record|report)\b.*\bresults?\b/i.test(masked))
    notes.push("every target's result and output is recorded with the job");

  const used = new Map<string, number>();
  const steps = intents
    .filter((i): i is Exclude<Intent, { kind: 'record-results' }> => i.kind !== 'record-results')
    .map((intent) => {
      const { id, ...step } = toStep(intent, EXECUTOR_KINDS.has(intent.kind) ? undefined : placement.at(intent.at));
      const base = id ?? step.tool.replace(/^service-|^package-/, '');
      const n = (used.get(base) ?? 0) + 1;
      used.set(base, n);
      return { id: n === 1 ? base : `${base}-${n}`, ...step };
    });
  // A group takes a one-OS tool on its targets of that OS ("disk space on Data Processing": its Linux ones).
  const narrowed = new Set<string>();
  for (const s of steps) {
    const places = Object.keys(catalog.get(s.tool)?.execution ?? {});
    const only = places.length === 1 && (places[0] === 'linux' || places[0] === 'windows') ? places[0] : null;
    if (only && s.targets?.group && !s.targets.os) {
      s.targets = { ...s.targets, os: only };
      narrowed.add(
        `${s.tool} runs on ${only === 'linux' ? 'Linux' : 'Windows'}: it acts on the group's ${only === 'linux' ? 'Linux' : 'Windows'} targets only`,
      );
    }
  }
  notes.push(...narrowed);
  notes.push(...unusedNameNotes(e, steps).map(nameOf));
  const changes = steps.some((s) => !stepReads(s, catalog));
  // A condition guards a change: refused, since the step would run unconditionally; on a read, said.
  const conditions = conditionsIn(text, masked).map(nameOf);
  if (changes && conditions.length) return refuse(conditionRefusal(conditions[0]!), notes);
  notes.push(...conditions.map(conditionNote), ...scheduleNotes(text, masked).map(nameOf));
  const policies = readPolicies(shell.masked, changes, placement.size);
  notes.push(...policies.notes);
  for (const s of steps) {
    const unordered = s.tool === 'database-query' ? unorderedNote(String(s.params.query ?? '')) : null;
    if (unordered) notes.push(nameOf(unordered));
  }
  for (const s of steps)
    if (s.tool === 'file-copy' && typeof s.params.source === 'string' && /^[A-Za-z]:\\|^\\\\|^\//.test(s.params.source))
      notes.push(
        `the source ${nameOf(s.params.source)} is a path of its own; file-copy sends an uploaded artifact, so upload the file (the Artifacts page, or POST /api/artifacts) and name it by its artifact name`,
      );
  const drafted = restoreNames(steps, nameOf);
  return {
    kind: 'plan',
    draft: {
      name: original.length > 120 ? `${original.slice(0, 117)}...` : original,
      // The monitor's heading and the jobs list: what the steps do and where, not the raw request.
      title: summarizeSteps(drafted),
      request: original,
      steps: drafted,
      policies: policies.policies,
    },
    notes,
    ...(e.count !== undefined && { expectedTargets: { count: e.count, ...(e.os && { os: e.os }) } }),
  };
};
