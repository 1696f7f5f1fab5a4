import { PlainLine, toPlainLine } from './plain-text.js';
import type { TargetSelector } from './inventory.js';

/*
 * A plan's title: the short summary the job monitor and the jobs list show ("Update nginx on
 * Production Web"), where the plan's name may be the raw request. Display only: never parsed,
 * matched or acted on; one bounded line of plain text.
 */

export const PLAN_TITLE_MAX = 120;

/** A plan's optional title, as a planner or a person gives it. */
export const PlanTitle = PlainLine(PLAN_TITLE_MAX);

/** What the summary reads of a step: its catalog tool, that tool's parameters, and its targets. */
export interface TitledStep {
  tool?: string | undefined;
  params?: Record<string, unknown> | undefined;
  targets?: TargetSelector | undefined;
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() ? toPlainLine(value, 60) : null;
/** The last part of a path, Windows or POSIX. */
const baseName = (value: unknown): string | null =>
  text(
    String(value ?? '')
      .split(/[\\/]/)
      .findLast((p) => p.trim()),
  );
const hostOf = (value: unknown): string | null => {
  try {
    return text(new URL(String(value)).hostname);
  } catch {
    return text(value);
  }
};

type Phrase = (params: Record<string, unknown>, all: readonly TitledStep[]) => string;

const serviceOf = (all: readonly TitledStep[]): string | null =>
  all
    .filter((s) => /^service-(stop|start|restart)$/.test(s.tool ?? ''))
    .map((s) => text(s.params?.service))
    .find(Boolean) ?? null;

/** A file copy updates what it replaces: the service stopped around it, named as its file names it. */
const copied: Phrase = (p, all) => {
  const file = baseName(p.destination) ?? baseName(p.source);
  const service = serviceOf(all);
  const stem = file?.replace(/\.[^.]+$/, '') ?? null;
  if (service) return `Update ${stem && stem.toLowerCase() === service.toLowerCase() ? stem : service}`;
  return file ? `Copy ${file}` : 'Copy a file';
};

/** The tools in the order in which one names a plan best: what changes most first, what only looks last. */
const PHRASES: [string, Phrase][] = [
  ['file-copy', copied],
  ['package-update', (p) => `Update ${text(p.package) ?? 'a package'}`],
  ['package-install', (p) => `Install ${text(p.package) ?? 'a package'}`],
  ['package-remove', (p) => `Remove ${text(p.package) ?? 'a package'}`],
  ['config-restore', () => 'Restore configuration'],
  ['file-restore', (p) => `Restore ${baseName(p.destination) ?? 'a file'}`],
  ['system-reboot', () => 'Reboot'],
  ['system-shutdown', () => 'Shut down'],
  ['service-restart', (p) => `Restart ${text(p.service) ?? 'a service'}`],
  ['service-stop', (p) => `Stop ${text(p.service) ?? 'a service'}`],
  ['service-start', (p) => `Start ${text(p.service) ?? 'a service'}`],
  ['run-script', () => 'Run a script'],
  ['database-query', (p) => (p.allowWrites === true ? 'Change data' : 'Query the database')],
  ['run-command', (p) => `Run ${text(p.program) ?? 'a command'}`],
  ['config-backup', () => 'Back up configuration'],
  ['file-backup', (p) => `Back up ${baseName(p.path) ?? 'a file'}`],
  ['service-wait', (p) => `Check ${text(p.service) ?? 'a service'}`],
  ['service-status', (p) => `Check ${text(p.service) ?? 'a service'}`],
  ['process-check', (p) => `Check process ${text(p.process) ?? ''}`.trim()],
  ['package-version', (p) => `Check the ${text(p.package) ?? 'package'} version`],
  ['disk-space', () => 'Check disk space'],
  ['event-log-query', (p) => `Read the ${text(p.log) ?? 'Windows'} event log`],
  ['http-check', (p) => `Check ${hostOf(p.url) ?? 'a URL'}`],
  ['ping', (p) => `Ping ${text(p.host) ?? 'a host'}`],
  ['traceroute', (p) => `Trace the route to ${text(p.host) ?? 'a host'}`],
  ['wait', (p) => `Wait ${typeof p.seconds === 'number' ? `${p.seconds} seconds` : ''}`.trim()],
];
const RANK = new Map(PHRASES.map(([tool], i) => [tool, i]));
const PHRASE = new Map(PHRASES);

const scopeOf = (targets: TargetSelector | undefined): string => {
  if (!targets) return '';
  if (targets.group) return ` on ${toPlainLine(targets.group, 60)}`;
  const names = targets.targets ?? [];
  if (names.length === 1) return ` on ${toPlainLine(names[0]!, 60)}`;
  if (names.length > 1) return ` on ${names.length} targets`;
  if (targets.tags?.length) return ` on targets tagged ${toPlainLine(targets.tags.join(', '), 60)}`;
  return '';
};

/**
 * A deterministic summary of what a plan does, from its steps' tools and targets: the step that
 * names it best (a copy, an update, a restart before a check) and where it runs.
 */
export const summarizeSteps = (steps: readonly TitledStep[]): string => {
  const ranked = steps
    .map((step, index) => ({ step, rank: RANK.get(step.tool ?? '') ?? PHRASES.length, index }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index);
  const lead = ranked[0]?.step;
  if (!lead) return 'An empty plan';
  const phrase = PHRASE.get(lead.tool ?? '');
  const what = phrase ? phrase(lead.params ?? {}, steps) : `Run ${text(lead.tool) ?? 'a step'}`;
  const where = scopeOf(lead.targets ?? steps.find((s) => s.targets?.group)?.targets);
  return toPlainLine(`${what}${where}`, PLAN_TITLE_MAX);
};

/** Whether a plan's name is only the request it answers (whole, or its start cut with "..."). */
const nameIsRequest = (name: string, request: string | null | undefined): boolean => {
  const asked = request?.trim();
  const own = name.trim().replace(/(\.\.\.|…)$/, '');
  return Boolean(asked && own && asked.startsWith(own));
};

/**
 * The title a job shows: the plan's own title; else its name, unless that name is just the raw
 * request; else a summary of its steps. Plain text, one line, at most `PLAN_TITLE_MAX` characters.
 */
export const planTitle = (
  plan: {
    name: string;
    title?: string | undefined;
    steps: readonly {
      tool?: { name: string; params: Record<string, unknown> } | undefined;
      targets?: TargetSelector | undefined;
    }[];
  },
  request?: string | null,
): string => {
  const own = plan.title && toPlainLine(plan.title, PLAN_TITLE_MAX);
  if (own) return own;
  const name = toPlainLine(plan.name, PLAN_TITLE_MAX);
  if (name && !nameIsRequest(plan.name, request)) return name;
  return summarizeSteps(plan.steps.map((s) => ({ tool: s.tool?.name, params: s.tool?.params, targets: s.targets })));
};
