import type { Entities } from './entities.js';

/** One thing the request asks for, with what it acts on, in the order the request says it. */
export type Intent =
  | { kind: 'ping' | 'traceroute'; host: string | null }
  | { kind: 'http-check'; url: string | null }
  | { kind: 'disk-space'; path: string | null }
  | { kind: 'process-check'; process: string | null; expect?: 'running' | 'stopped' }
  | {
      kind: 'service-status' | 'service-start' | 'service-stop' | 'service-restart' | 'service-verify';
      service: string | null;
    }
  | {
      kind: 'package-version' | 'package-update' | 'package-install' | 'package-remove';
      package: string | null;
      version?: string;
    }
  | { kind: 'file-copy'; source: string | null; destination: string | null }
  | { kind: 'backup'; paths: string[] }
  | { kind: 'event-log'; log: string; level?: 'critical' | 'error' | 'warning' | 'information'; sinceMinutes?: number }
  | { kind: 'run-command'; program: string; args: string[] }
  | { kind: 'run-script'; script: string }
  | { kind: 'database-query'; query: string }
  | { kind: 'record-results' };

/** Verbs the built-in planner cannot do anything with; their presence with no other intent is a refusal. */
export const UNSUPPORTED =
  /\b(reboot|shut ?down|power ?off|format|wipe|erase|delete|drop|truncate|destroy|kill|terminate|create user|add user|open port|firewall|scale|provision|migrate|rename|resize|encrypt|decrypt)\b/i;

/** Splits a request into clauses: commas, semicolons, sentences, "then", "and" before a verb. */
export const clausesOf = (text: string): string[] =>
  text
    .replace(/`[^`]*`/g, (code) => code.replace(/[,;.]/g, (c) => `\u0000${c.charCodeAt(0)}\u0000`))
    .split(
      /\s*(?:[;,?!]|:\s|\.\s+|\.$|\bthen\b|\band then\b|\bafterwards\b|\bafter that\b|\band\s+(?=(?:then\s+)?(?:stop|start|restart|copy|deploy|push|upload|verify|check|confirm|ensure|make sure|update|upgrade|install|back ?up|log|report|record|wait|run|ping|trace|bounce|bring|replace)\b))\s*/i,
    )
    .map((c) => c.replace(/\u0000(\d+)\u0000/g, (_, code: string) => String.fromCharCode(Number(code))).trim())
    .filter(Boolean);

const has = (clause: string, pattern: RegExp) => pattern.test(clause);
const first = <T>(items: T[]): T | null => items[0] ?? null;
const inClause = (clause: string, names: string[]): string | null =>
  names.find((n) => clause.toLowerCase().includes(n.toLowerCase())) ?? null;

const LEVELS = [
  [/\bcritical\b/i, 'critical'],
  [/\berrors?\b/i, 'error'],
  [/\bwarnings?\b/i, 'warning'],
  [/\binformation(al)?\b|\binfo\b/i, 'information'],
] as const;

const sinceMinutes = (clause: string): number | undefined => {
  const m = /\b(?:last|past)\s+(\d{1,4})?\s*(minute|min|hour|hr|day)s?\b/i.exec(clause);
  if (!m) return /\btoday\b/i.test(clause) ? 1_440 : undefined;
  const n = Number(m[1] ?? 1);
  const unit = (m[2] ?? 'hour').toLowerCase();
  return unit.startsWith('min') ? n : unit.startsWith('h') ? n * 60 : n * 1_440;
};

/** The intents of one clause; `e` is what the whole request names, used when the clause names nothing itself. */
export const intentsOf = (clause: string, e: Entities): Intent[] => {
  const c = clause;
  const service = inClause(c, e.services) ?? null;
  const process = inClause(c, e.processes) ?? null;
  const pkg = inClause(c, e.packages) ?? null;
  const code = e.code.find((x) => c.includes(x)) ?? null;

  if (has(c, /\bping\b/i))
    return [{ kind: 'ping', host: inClause(c, [...e.hosts, ...e.targets]) ?? first([...e.hosts, ...e.targets]) }];
  if (has(c, /\btrace\s*route|\btracert\b|\btraceroute\b|\btrace the (?:route|path)\b/i))
    return [{ kind: 'traceroute', host: inClause(c, [...e.hosts, ...e.targets]) ?? first([...e.hosts, ...e.targets]) }];
  if (e.urls.length && has(c, /\bhttps?:\/\/|\burl\b|\bendpoint\b|\bwebsite\b|\bhealth\b|\bresponds?\b|\banswers?\b/i))
    return [{ kind: 'http-check', url: inClause(c, e.urls) ?? first(e.urls) }];
  if (has(c, /\bdisk\s*(?:space|usage)\b|\bfree space\b|\bdf\b|\bstorage\b|\bdisk is full\b|\bspace left\b/i))
    return [{ kind: 'disk-space', path: e.paths.find((p) => p.startsWith('/')) ?? null }];
  if (has(c, /\bevent\s*logs?\b|\beventlog\b|\bevent viewer\b|\b(?:system|application|security) log\b/i)) {
    const log = /\b(system|application|security|setup)\b/i.exec(c)?.[1];
    const level = LEVELS.find(([p]) => p.test(c))?.[1];
    const since = sinceMinutes(c);
    const name = log ? `${log.charAt(0).toUpperCase()}${log.slice(1).toLowerCase()}` : 'System';
    return [{ kind: 'event-log', log: name, ...(level && { level }), ...(since && { sinceMinutes: since }) }];
  }
  if (code && (has(c, /\b(query|sql|database|db)\b/i) || /^\s*(select|with|show|explain)\b/i.test(code)))
    return [{ kind: 'database-query', query: code }];
  if (code && has(c, /\b(run|execute|exec)\b/i)) {
    if (/[\n;|&$<>]/.test(code) || has(c, /\bscript\b/i)) return [{ kind: 'run-script', script: code }];
    const [program = code, ...args] = code.trim().split(/\s+/);
    return [{ kind: 'run-command', program, args }];
  }
  if (
    has(c, /\b(log|record|report|save|collect)\b.*\b(results?|outcome|output)\b|\bresults?\b.*\b(logged|recorded)\b/i)
  )
    return [{ kind: 'record-results' }];
  if (has(c, /\bback\s*(?:up|ups)\b|\bbackup\b|\bsnapshot\b/i) && !has(c, /\brestore\b/i)) {
    const paths = e.paths.filter((p) => p.startsWith('/'));
    return [{ kind: 'backup', paths }];
  }
  if (
    has(c, /\b(copy|deploy|push|upload|transfer|replace|roll out)\b/i) &&
    has(c, /\b(file|exe|binary|executable|artifact|build|dll|jar|config|it)\b|\.[a-z0-9]{2,4}\b|[\\/]/i)
  ) {
    const destination = e.paths.find((p) => /^[A-Za-z]:\\/.test(p) || p.startsWith('/')) ?? null;
    const source =
      /\b(?:artifact|from)\s+['"]?([A-Za-z0-9._+-][A-Za-z0-9._+/-]*\.[A-Za-z0-9]{1,8})\b/i.exec(c)?.[1] ??
      /\b(?:copy|deploy|push|upload)\s+(?:the\s+)?(?:new\s+)?(?:file\s+)?['"]?([A-Za-z0-9_][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9._+-]+)*\.[A-Za-z0-9]{1,8})\b/i.exec(
        c,
      )?.[1] ??
      null;
    return [{ kind: 'file-copy', source, destination }];
  }
  if (has(c, /\b(update|upgrade|patch)\b/i) && (pkg || e.packages.length))
    return [{ kind: 'package-update', package: pkg ?? first(e.packages) }];
  if (has(c, /\b(uninstall|remove)\b/i) && (pkg || e.packages.length))
    return [{ kind: 'package-remove', package: pkg ?? first(e.packages) }];
  if (has(c, /\binstall\b/i) && (pkg || e.packages.length)) {
    const version = /\bversion\s+([0-9][A-Za-z0-9.+~:_-]*)\b|\b(?:=|@)([0-9][A-Za-z0-9.+~:_-]*)\b/i.exec(c);
    return [
      {
        kind: 'package-install',
        package: pkg ?? first(e.packages),
        ...(version && { version: (version[1] ?? version[2]) as string }),
      },
    ];
  }
  if (has(c, /\bversion\b/i) && (pkg || e.packages.length))
    return [{ kind: 'package-version', package: pkg ?? first(e.packages) }];

  const svc = service ?? (process ? process.replace(/\.exe$/i, '') : null);
  if (has(c, /\b(restart|bounce|recycle|reload)\b/i)) return [{ kind: 'service-restart', service: svc }];
  if (has(c, /\b(stop|halt|shut down the|take down)\b/i)) return [{ kind: 'service-stop', service: svc }];
  if (has(c, /\b(start|bring (?:it |them )?(?:back )?up|launch|turn on)\b/i) && !has(c, /\bstartup\b/i))
    return [{ kind: 'service-start', service: svc }];
  if (has(c, /\b(verify|confirm|ensure|make sure|wait until|wait for|validate)\b/i) || has(c, /\bstartup\b/i)) {
    if (process && !service) return [{ kind: 'process-check', process, expect: 'running' }];
    return [{ kind: 'service-verify', service: svc }];
  }
  if (has(c, /\b(check|is|whether|status|running|state|see if|find out)\b/i)) {
    if (process) return [{ kind: 'process-check', process }];
    if (has(c, /\bprocess\b/i)) return [{ kind: 'process-check', process: service }];
    if (service || has(c, /\bservice\b/i)) return [{ kind: 'service-status', service: svc }];
  }
  return [];
};
