import type { DraftStep, OsFamily, PlanDraftInput, RolloutPolicies, TargetSelector } from '@opsc/contracts';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { extractEntities, type Entities, type InventorySketch } from './entities.js';
import { clausesOf, intentsOf, UNSUPPORTED, type Intent } from './intents.js';
import { neutralizeInventoryNames, restoreNames } from './inventory-names.js';

export interface PlannerRequest {
  request: string;
  inventory: InventorySketch;
  catalog: ToolCatalog;
}

/** A planner's answer before validation: a draft, or an honest refusal. */
export type PlannerAnswer =
  | { kind: 'plan'; draft: PlanDraftInput; notes: string[]; expectedTargets?: { count: number; os?: OsFamily } }
  | { kind: 'refusal'; message: string; closestTools: string[] };

/** Packages whose configuration lives in /etc/<name>, backed up before an update. */
const CONFIG_DIRS: Record<string, string> = {
  nginx: '/etc/nginx',
  apache2: '/etc/apache2',
  httpd: '/etc/httpd',
  haproxy: '/etc/haproxy',
  redis: '/etc/redis',
  'redis-server': '/etc/redis',
  postgresql: '/etc/postgresql',
  mysql: '/etc/mysql',
  'mysql-server': '/etc/mysql',
  mariadb: '/etc/mysql',
  'mariadb-server': '/etc/mysql',
  php: '/etc/php',
  bind9: '/etc/bind',
  squid: '/etc/squid',
  varnish: '/etc/varnish',
  tomcat: '/etc/tomcat',
  docker: '/etc/docker',
  'docker-ce': '/etc/docker',
  openssh: '/etc/ssh',
  'openssh-server': '/etc/ssh',
  postfix: '/etc/postfix',
  rsyslog: '/etc/rsyslog.d',
  chrony: '/etc/chrony',
  nftables: '/etc/nftables.conf',
};
/** Packages whose service has another name. */
const SERVICE_OF: Record<string, string> = {
  'openssh-server': 'ssh',
  'redis-server': 'redis-server',
  'mysql-server': 'mysql',
  'mariadb-server': 'mariadb',
  'docker-ce': 'docker',
};

const EXECUTOR_KINDS = new Set(['ping', 'traceroute', 'http-check']);
const SERVICE_KINDS = new Set(['service-status', 'service-start', 'service-stop', 'service-restart', 'service-verify']);

const refuse = (catalog: ToolCatalog, request: string, message: string): PlannerAnswer => ({
  kind: 'refusal',
  message,
  closestTools: catalog.closest(request).map((t) => t.name),
});

/** Fills each intent's missing subject from what the request named before it (or anywhere). */
const carryContext = (intents: Intent[], e: Entities): Intent[] => {
  let service: string | null = e.services[0] ?? (e.processes[0] ? e.processes[0].replace(/\.exe$/i, '') : null);
  let pkg: string | null = e.packages[0] ?? null;
  return intents.map((intent) => {
    if ('package' in intent) {
      pkg = intent.package ?? pkg;
      if (!service && pkg) service = SERVICE_OF[pkg] ?? pkg;
      return { ...intent, package: intent.package ?? pkg };
    }
    if (SERVICE_KINDS.has(intent.kind) && 'service' in intent) {
      const named = intent.service ?? service ?? (pkg ? (SERVICE_OF[pkg] ?? pkg) : null);
      service = named ?? service;
      return { ...intent, service: named };
    }
    if (intent.kind === 'process-check') return { ...intent, process: intent.process ?? e.processes[0] ?? service };
    return intent;
  });
};

/** The rollout shapes an operator expects around the literal steps. */
const shape = (intents: Intent[]): Intent[] => {
  const out: Intent[] = [];
  for (const [i, intent] of intents.entries()) {
    const next = intents[i + 1];
    if (intent.kind === 'record-results') continue;
    if (intent.kind === 'backup' && intent.paths.length === 0 && intents.some((x) => x.kind === 'file-copy')) continue; // file-copy backs up what it replaces
    if (intent.kind === 'package-update' && intent.package) {
      if (!out.some((x) => x.kind === 'package-version' && x.package === intent.package))
        out.push({ kind: 'package-version', package: intent.package });
      const dir = CONFIG_DIRS[intent.package];
      if (dir && !out.some((x) => x.kind === 'backup')) out.push({ kind: 'backup', paths: [dir] });
    }
    if (intent.kind === 'backup' && intent.paths.length === 0) {
      const pkg = intents.find(
        (x): x is Extract<Intent, { package: string | null }> => 'package' in x && x.package !== null,
      )?.package;
      const dir = pkg ? CONFIG_DIRS[pkg] : undefined;
      out.push({ kind: 'backup', paths: dir ? [dir] : [] });
      continue;
    }
    // "Stop it, copy, restart it": after a stop, a restart only has to start.
    if (intent.kind === 'service-restart') {
      const stoppedBefore = [...out].reverse().find((x) => x.kind === 'service-stop' || x.kind === 'service-start');
      if (
        stoppedBefore?.kind === 'service-stop' &&
        'service' in stoppedBefore &&
        stoppedBefore.service === intent.service
      ) {
        out.push({ kind: 'service-start', service: intent.service });
      } else out.push(intent);
    } else out.push(intent);
    // A change that starts a service is verified: it must be seen running before the plan says done.
    const last = out.at(-1);
    if (
      last &&
      (last.kind === 'service-start' || last.kind === 'service-restart') &&
      next?.kind !== 'service-verify' &&
      !(next?.kind === 'process-check' && next.expect)
    ) {
      out.push({ kind: 'service-verify', service: last.service });
    }
  }
  return out;
};

const toStep = (
  intent: Exclude<Intent, { kind: 'record-results' }>,
  targets: TargetSelector | undefined,
): Omit<DraftStep, 'id'> & { id?: string } => {
  const on = targets ? { targets } : {};
  const params = (p: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null && v !== undefined));
  switch (intent.kind) {
    case 'ping':
    case 'traceroute':
      return { tool: intent.kind, params: params({ host: intent.host }) };
    case 'http-check':
      return { tool: 'http-check', params: params({ url: intent.url }) };
    case 'disk-space':
      return { tool: 'disk-space', params: params({ path: intent.path }), ...on };
    case 'process-check':
      return { tool: 'process-check', params: params({ process: intent.process, expect: intent.expect }), ...on };
    case 'service-verify':
      return {
        id: 'verify',
        tool: 'service-wait',
        params: params({ service: intent.service, state: 'running' }),
        ...on,
      };
    case 'service-status':
    case 'service-start':
    case 'service-stop':
    case 'service-restart':
      return { tool: intent.kind, params: params({ service: intent.service }), ...on };
    case 'package-version':
    case 'package-update':
    case 'package-install':
    case 'package-remove':
      return {
        tool: intent.kind,
        params: params({
          package: intent.package,
          ...(intent.kind === 'package-install' && { version: intent.version }),
        }),
        ...on,
      };
    case 'file-copy':
      return { tool: 'file-copy', params: params({ source: intent.source, destination: intent.destination }), ...on };
    case 'backup':
      return {
        id: 'backup-config',
        tool: 'config-backup',
        params: intent.paths.length ? { paths: intent.paths } : {},
        ...on,
      };
    case 'event-log':
      return {
        tool: 'event-log-query',
        params: params({ log: intent.log, level: intent.level, sinceMinutes: intent.sinceMinutes }),
        ...on,
      };
    case 'run-command':
      return { tool: 'run-command', params: { program: intent.program, args: intent.args }, ...on };
    case 'run-script':
      return { tool: 'run-script', params: { script: intent.script }, ...on };
    case 'database-query':
      return { id: 'query', tool: 'database-query', params: { query: intent.query }, ...on };
  }
};

/** How the rollout should go, said in the request; cut out before its steps are read. */
const POLICY_PHRASES = {
  stopOnFailure:
    /\b(?:and\s+)?(?:stop|abort|halt)\s+(?:on|at|after|if)\s+(?:the\s+)?(?:first|any|one)\s+(?:\w+\s+)?(?:fail(?:s|ure|ed)?|errors?)\b/i,
  parallel:
    /\b(\d{1,4})\s+at a time\b|\bin batch(?:es)? of (\d{1,4})\b|\b(\d{1,4})\s+in parallel\b|\bmax(?:imum)?\s+(?:of\s+)?(\d{1,4})\s+(?:at once|in parallel|parallel)\b/i,
  serial: /\bone at a time\b|\bserially\b|\bsequentially\b|\bone by one\b/i,
  rollbackAll:
    /\b(?:and\s+)?roll ?back (?:everything|all|every (?:target|server|host))(?:\s+if\s+(?:anything|any\s+\w+)\s+fails)?\b/i,
  noRollback: /\b(?:no|without|don'?t|do not) roll ?back\b/i,
};

const policiesFor = (request: string, changes: boolean): Partial<RolloutPolicies> => {
  const p: Partial<RolloutPolicies> = {};
  // A change rollout goes on past a few failed targets, undoing theirs, and asks a person when too many fail.
  if (changes)
    Object.assign(p, { continueOnFailure: true, maxFailPercentage: 20, rollback: 'target', onFailThreshold: 'ask' });
  if (POLICY_PHRASES.stopOnFailure.test(request))
    Object.assign(p, { continueOnFailure: false, maxFailPercentage: 0, onFailThreshold: 'abort' });
  const parallel = POLICY_PHRASES.parallel.exec(request);
  if (parallel) p.maxParallel = Math.min(1_000, Math.max(1, Number(parallel.slice(1).find(Boolean))));
  if (POLICY_PHRASES.serial.test(request)) p.maxParallel = 1;
  if (POLICY_PHRASES.rollbackAll.test(request)) p.rollback = 'all';
  if (POLICY_PHRASES.noRollback.test(request)) p.rollback = 'none';
  return p;
};

const withoutPolicyPhrases = (request: string): string =>
  Object.values(POLICY_PHRASES).reduce((text, phrase) => text.replace(new RegExp(phrase.source, 'gi'), ' '), request);

/**
 * The embedded planner: deterministic, no network. It reads the intents of the request in order
 * (check, stop, copy, start, verify...), the entities it names (groups, hosts, services,
 * processes, packages, paths), and composes a draft; what it cannot fill it leaves for the
 * validator to ask. A request it does not understand gets an honest refusal with the nearest
 * tools, never a guess that runs something.
 */
export const builtinPlan = ({ request, inventory: fullInventory, catalog }: PlannerRequest): PlannerAnswer => {
  const original = request.trim();
  if (!original) return refuse(catalog, '', 'The request is empty: tell me what to do and on which servers.');
  // Inventory names are read as names only: every one the request mentions becomes an opaque token.
  const { text, inventory, nameOf } = neutralizeInventoryNames(original, fullInventory);
  const unsupported = UNSUPPORTED.exec(text.replace(/`[^`]*`/g, ' '))?.[0];
  if (unsupported) {
    return refuse(
      catalog,
      original,
      `I can't plan "${unsupported}": none of my tools does that, and I won't guess at something that changes servers. The closest tools are listed; a run-script step written by you can do it, with approval.`,
    );
  }
  const stepsText = withoutPolicyPhrases(text);
  const e = extractEntities(stepsText, inventory);
  const intents = shape(
    carryContext(
      clausesOf(stepsText).flatMap((c) => intentsOf(c, e)),
      e,
    ),
  );
  if (intents.length === 0)
    return refuse(catalog, original, "I can't plan that: I found nothing in it that my tools do.");

  const notes: string[] = [];
  const needsTargets = intents.some((i) => !EXECUTOR_KINDS.has(i.kind));
  let targets: TargetSelector | undefined;
  if (e.groups.length) {
    targets = { group: e.groups[0] as string, ...(e.os && { os: e.os }) };
    if (e.groups.length > 1)
      notes.push(
        `the request names several groups; the plan uses '${nameOf(e.groups[0] as string)}' (edit the targets to change it)`,
      );
  } else if (e.targets.length) {
    targets = { targets: e.targets };
  } else if (e.unknownGroups.length) {
    targets = { group: e.unknownGroups[0] as string };
  }
  if (needsTargets && !targets) {
    const known = fullInventory.groups
      .map((g) => `'${g.name}'`)
      .slice(0, 10)
      .join(', ');
    return refuse(
      catalog,
      original,
      `Which servers should I act on? Name a group${known ? ` (${known})` : ''} or target names.`,
    );
  }
  if (/\b(log|record|report)\b.*\bresults?\b/i.test(text))
    notes.push("every target's result and output is recorded with the job");

  const used = new Map<string, number>();
  const steps = intents
    .filter((i): i is Exclude<Intent, { kind: 'record-results' }> => i.kind !== 'record-results')
    .map((intent) => {
      const { id, ...step } = toStep(intent, EXECUTOR_KINDS.has(intent.kind) ? undefined : targets);
      const base = id ?? step.tool.replace(/^service-|^package-/, '');
      const n = (used.get(base) ?? 0) + 1;
      used.set(base, n);
      return { id: n === 1 ? base : `${base}-${n}`, ...step };
    });
  const changes = steps.some((s) => catalog.get(s.tool)?.risk !== 'read');
  return {
    kind: 'plan',
    draft: {
      name: original.length > 120 ? `${original.slice(0, 117)}...` : original,
      request: original,
      steps: restoreNames(steps, nameOf),
      policies: policiesFor(text, changes),
    },
    notes,
    ...(e.count !== undefined && { expectedTargets: { count: e.count, ...(e.os && { os: e.os }) } }),
  };
};
