import type { DraftStep, TargetSelector } from '@opsc/contracts';
import type { Entities } from './entities.js';
import { CONFIG_DIRS } from './config-dirs.js';
import type { Intent } from './intents.js';

/*
 * From intents to draft steps: each intent's missing subject carried from what the request named
 * before, the shapes an operator expects around the literal steps (a version and a backup before an
 * update, a verification after a start), and one step per intent.
 */

/** Packages whose service has another name. */
const SERVICE_OF: Record<string, string> = {
  'openssh-server': 'ssh',
  'redis-server': 'redis-server',
  'mysql-server': 'mysql',
  'mariadb-server': 'mariadb',
  'docker-ce': 'docker',
};

/** Intents whose steps take no targets: they run on the executor, or are the job's own timer. */
export const EXECUTOR_KINDS = new Set(['ping', 'traceroute', 'http-check', 'wait']);
const SERVICE_KINDS = new Set(['service-status', 'service-start', 'service-stop', 'service-restart', 'service-verify']);

/** Fills each intent's missing subject from what the request named before it (or anywhere). */
export const carryContext = (intents: Intent[], e: Entities): Intent[] => {
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
export const shape = (intents: Intent[]): Intent[] => {
  const out: Intent[] = [];
  for (const [i, intent] of intents.entries()) {
    const next = intents[i + 1];
    if (intent.kind === 'record-results') continue;
    if (intent.kind === 'backup' && intent.paths.length === 0 && intents.some((x) => x.kind === 'file-copy')) continue; // file-copy backs up what it replaces
    if (intent.kind === 'package-update' && intent.package) {
      if (!out.some((x) => x.kind === 'package-version' && x.package === intent.package))
        out.push({ kind: 'package-version', package: intent.package, at: intent.at });
      const dir = CONFIG_DIRS[intent.package];
      if (dir && !out.some((x) => x.kind === 'backup')) out.push({ kind: 'backup', paths: [dir], at: intent.at });
    }
    if (intent.kind === 'backup' && intent.paths.length === 0) {
      const pkg = intents.find(
        (x): x is Extract<Intent, { package: string | null }> => 'package' in x && x.package !== null,
      )?.package;
      const dir = pkg ? CONFIG_DIRS[pkg] : undefined;
      out.push({ kind: 'backup', paths: dir ? [dir] : [], at: intent.at });
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
        out.push({ kind: 'service-start', service: intent.service, at: intent.at });
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
      out.push({ kind: 'service-verify', service: last.service, at: last.at });
    }
  }
  return out;
};

export const toStep = (
  intent: Exclude<Intent, { kind: 'record-results' }>,
  targets: TargetSelector | undefined,
): Omit<DraftStep, 'id'> & { id?: string } => {
  const on = targets ? { targets } : {};
  const params = (p: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null && v !== undefined));
  switch (intent.kind) {
    case 'ping':
      return { tool: 'ping', params: params({ host: intent.host, count: intent.count }) };
    case 'traceroute':
      return { tool: 'traceroute', params: params({ host: intent.host }) };
    case 'file-backup':
      return { tool: 'file-backup', params: { path: intent.path }, ...on };
    case 'file-restore':
      return { tool: 'file-restore', params: { destination: intent.destination }, ...on };
    case 'config-restore':
      return { tool: 'config-restore', params: params({ archive: intent.archive }), ...on };
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
      return { tool: 'run-script', params: params({ script: intent.script }), ...on };
    case 'database-query':
      return {
        id: 'query',
        tool: 'database-query',
        params: params({ query: intent.query, ...(intent.allowWrites && { allowWrites: true }) }),
        ...on,
      };
    case 'wait':
      // The job's own timer between two steps: no targets.
      return { id: 'wait', tool: 'wait', params: { seconds: intent.seconds } };
    case 'system-reboot':
      return { id: 'reboot', tool: 'system-reboot', params: {}, ...on };
    case 'system-shutdown':
      return { id: 'shutdown', tool: 'system-shutdown', params: {}, ...on };
  }
};
