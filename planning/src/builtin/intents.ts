import { ONE_STATEMENT_MESSAGE, sqlStatementCount } from '@opsc/contracts';
import { codeIntent, powerIntent, programInClause, waitBefore, waitBetween, waitClause } from './command-intents.js';
import { CONFIG_DIRS } from './config-dirs.js';
import { databaseIntent, looksLikeSql, sqlReadsOnly } from './database-intents.js';
import { NUMBER, numberOf } from './numbers.js';
import type { Entities } from './entities.js';
import type { Clause } from './spans.js';

/** One thing the request asks for, with what it acts on, in the order the request says it; `at`: its clause. */
export type Intent = { at?: number } & (
  | { kind: 'ping'; host: string | null; count?: number }
  | { kind: 'traceroute'; host: string | null }
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
  | { kind: 'file-backup'; path: string }
  | { kind: 'file-restore'; destination: string }
  | { kind: 'config-restore'; archive: string | null }
  | { kind: 'event-log'; log: string; level?: 'critical' | 'error' | 'warning' | 'information'; sinceMinutes?: number }
  | { kind: 'run-command'; program: string; args: string[] }
  | { kind: 'run-script'; script: string | null }
  | { kind: 'database-query'; query: string | null; allowWrites?: true }
  | { kind: 'wait'; seconds: number }
  | { kind: 'system-reboot' | 'system-shutdown' }
  | { kind: 'record-results' }
);

/** What a clause asks for, or why the request must be refused. */
export type ClauseReading = Intent[] | { refusal: string };

/**
 * Verbs the built-in planner cannot do anything with; their presence is a refusal. Read on the
 * masked request, as whole words (not "kill-switch"): code, quotes, paths and URLs never trigger it.
 */
export const UNSUPPORTED =
  /(?<![\w-])(format|wipe|erase|delete|drop(?!\s+(?:in|into)\b)|truncate|destroy|kill|terminate|create user|add user|open port|firewall|scale|provision|migrate|rename|resize|encrypt|decrypt)(?![\w-])/i;

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

/** "C:\App\" or "/opt/app/": a folder, so the file keeps its name there. */
const intoFolder = (destination: string | null, source: string | null): string | null => {
  if (!destination || !source || !/[\\/]$/.test(destination)) return destination;
  const name = source.split(/[\\/]/).at(-1);
  return name ? `${destination}${name}` : destination;
};

const fileCopy = (c: Clause, e: Entities): Intent => {
  const inText = e.paths.filter((p) => c.text.includes(p));
  const absolute = (p: string) => /^[A-Za-z]:\\/.test(p) || p.startsWith('/') || p.startsWith('\\\\');
  // "copy <source> to <destination>": the path after "to" is where it goes.
  const to = /\s(?:to|into|onto|as)\s+(?:the\s+)?(?:folder\s+|directory\s+|path\s+)?/i.exec(c.masked);
  const after = to ? c.text.slice(to.index + to[0].length) : '';
  const destination = inText.find((p) => absolute(p) && after.startsWith(p)) ?? inText.find((p) => absolute(p)) ?? null;
  const before = to ? c.text.slice(0, to.index) : c.text;
  const source =
    inText.find((p) => p !== destination && before.includes(p)) ??
    /\b(?:artifact|from)\s+['"]?([A-Za-z0-9._+-][A-Za-z0-9._+/-]*\.[A-Za-z0-9]{1,8})\b/i.exec(before)?.[1] ??
    /\b(?:copy|deploy|push|upload|place|put|drop\s+in)\s+(?:the\s+)?(?:new\s+)?(?:file\s+)?['"]?([A-Za-z0-9_][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9._+-]+)*\.[A-Za-z0-9]{1,8})\b/i.exec(
      before,
    )?.[1] ??
    null;
  return { kind: 'file-copy', source, destination: intoFolder(destination, source) };
};

const PING_TIMES = new RegExp(String.raw`\b(${NUMBER})\s+times\b`, 'i');
/** A clause that starts like a shell command line ("shutdown -h now", "rm -rf /"): not English to act on. */
const SHELL_LIKE = /^(?!run\b|execute\b|exec\b)[A-Za-z][\w.-]*\s+-{1,2}[A-Za-z]/i;
const absolute = (p: string) => /^[A-Za-z]:\\/.test(p) || p.startsWith('/') || p.startsWith('\\\\');

/** "restore the config archive …", "put back the original /etc/app.conf": the undo tools, asked for by name. */
const restoreIntent = (c: Clause, e: Entities): Intent | null => {
  if (!/\b(?:restore|put back|revert)\b/i.test(c.masked)) return null;
  const inText = e.paths.filter((p) => c.text.includes(p));
  const archive = inText.find((p) => /\.(?:tar\.gz|tgz|tar)$/i.test(p));
  if (archive || /\b(?:config(?:uration)?\s+(?:backup|archive)|archive)\b/i.test(c.masked))
    return { kind: 'config-restore', archive: archive ?? null };
  const path = inText.find(absolute);
  return path ? { kind: 'file-restore', destination: path } : null;
};

/** The intents of one clause; `e` is what the whole request names, used when the clause names nothing itself. */
export const intentsOf = (clause: Clause, e: Entities): ClauseReading => {
  const after = waitBefore(clause);
  if (after) {
    const rest = intentsOf(after.rest, e);
    return 'refusal' in rest ? rest : [{ kind: 'wait', seconds: after.seconds }, ...rest];
  }
  const c = clause.text;
  const m = clause.masked;
  const service = inClause(c, e.services) ?? null;
  const process = inClause(c, e.processes) ?? null;
  const pkg = inClause(c, e.packages) ?? null;
  const code = e.code.find((x) => c.includes(x)) ?? null;

  const between = waitBetween(clause);
  if (between)
    return [
      { kind: 'service-stop', service: between.service },
      { kind: 'wait', seconds: between.seconds },
      { kind: 'service-start', service: between.service },
    ];
  const wait = waitClause(clause);
  if (wait !== null) return [{ kind: 'wait', seconds: wait }];
  // "check whether `format-report` is running": a backticked name is a process to look for.
  if (code && /^[\w.-]{1,100}$/.test(code) && has(m, /\b(?:running|alive)\b/i) && !has(m, /\b(run|execute)\b/i))
    return [{ kind: 'process-check', process: code }];
  if (code && (has(m, /\b(query|sql|database|db|table)\b/i) || looksLikeSql(code)))
    return sqlStatementCount(code) > 1
      ? {
          refusal: `I can't plan that SQL: ${ONE_STATEMENT_MESSAGE}. Put each statement in its own step, in its own backticks.`,
        }
      : [{ kind: 'database-query', query: code, ...(!sqlReadsOnly(code) && { allowWrites: true as const }) }];
  const db = databaseIntent(clause);
  if (db)
    return 'refusal' in db
      ? db
      : [{ kind: 'database-query', query: db.query, ...(db.write && { allowWrites: true as const }) }];
  if (code && has(m, /\b(run|execute|exec)\b/i)) return [codeIntent(code, has(m, /\bscript\b/i))];
  const program = programInClause(clause);
  if (program) return [{ kind: 'run-command', ...program }];
  if (!code && has(m, /\b(?:run|execute)\s+(?:a|the|this|my|some|an?\s+operator)?\s*(?:script|powershell|bash)\b/i))
    return [{ kind: 'run-script', script: null }];
  // "uptime of every Web Servers machine", "what's the hostname of db-01": a read-only command, named.
  const named = /^(?:(?:what(?:'s| is)|show(?:\s+me)?|get|tell me)\s+(?:the\s+)?)?(uptime|hostname)\b/i.exec(m);
  if (named) return [{ kind: 'run-command', program: named[1]!.toLowerCase(), args: [] }];
  if (!code && has(m, /^(?:run\s+an?\s+)?(?:sql\s+)?query\b|\bquery\s+(?:the\s+)?(?:database|db)\b/i))
    return [{ kind: 'database-query', query: null }];
  const power = SHELL_LIKE.test(m) ? null : powerIntent(clause, !!service || has(m, /\b(service|daemon|process)\b/i));
  if (power) return [{ kind: power }];
  if (SHELL_LIKE.test(m)) return [];
  const restore = restoreIntent(clause, e);
  if (restore) return [restore];
  if (has(m, /\b(?:save|keep|make)\s+a\s+copy\s+of\b|\bback\s*up\s+the\s+file\b/i)) {
    const path = e.paths.find((p) => p.startsWith('/') && c.includes(p));
    if (path) return [{ kind: 'file-backup', path }];
  }

  if (has(m, /\bping\b/i)) {
    const times = PING_TIMES.exec(m);
    const host = inClause(c, [...e.hosts, ...e.targets]) ?? first([...e.hosts, ...e.targets]);
    return [{ kind: 'ping', host, ...(times && { count: Math.floor(numberOf(times[1]!)) }) }];
  }
  if (has(m, /\btrace\s*route|\btracert\b|\btraceroute\b|\btrace the (?:route|path)\b/i))
    return [{ kind: 'traceroute', host: inClause(c, [...e.hosts, ...e.targets]) ?? first([...e.hosts, ...e.targets]) }];
  if (e.urls.length && has(c, /\bhttps?:\/\/|\burl\b|\bendpoint\b|\bwebsite\b|\bhealth\b|\bresponds?\b|\banswers?\b/i))
    return [{ kind: 'http-check', url: inClause(c, e.urls) ?? first(e.urls) }];
  if (
    has(
      m,
      /\bdisk\s*(?:space|usage)\b|\bfree space\b|\bdf\b|\bstorage\b|\bdisk is full\b|\bspace left\b|\bout of (?:disk|space)\b/i,
    )
  )
    return [{ kind: 'disk-space', path: e.paths.find((p) => p.startsWith('/') && c.includes(p)) ?? null }];
  if (has(m, /\bevent\s*logs?\b|\beventlog\b|\bevent viewer\b|\b(?:system|application|security) log\b/i)) {
    const log = /\b(system|application|security|setup)\b/i.exec(m)?.[1];
    const level = LEVELS.find(([p]) => p.test(m))?.[1];
    const since = sinceMinutes(m);
    const name = log ? `${log.charAt(0).toUpperCase()}${log.slice(1).toLowerCase()}` : 'System';
    return [{ kind: 'event-log', log: name, ...(level && { level }), ...(since && { sinceMinutes: since }) }];
  }
  if (
    has(m, /\b(log|record|report|save|collect)\b.*\b(results?|outcome|output)\b|\bresults?\b.*\b(logged|recorded)\b/i)
  )
    return [{ kind: 'record-results' }];
  if (
    has(m, /(?<![\w-])(?:back\s*(?:up|ups)|backup|snapshot)(?![\w-])/i) &&
    !has(m, /\brestore\b|\b(?:it|them)\s+back\s+up\b/i)
  ) {
    const paths = e.paths.filter((p) => p.startsWith('/') && c.includes(p));
    // "a backup of the nginx config": the package's configuration folder.
    const config = Object.keys(CONFIG_DIRS).find((name) => new RegExp(`\\b${name}\\b`, 'i').test(m));
    const named = config ? [CONFIG_DIRS[config]!] : [];
    return [
      { kind: 'backup', paths: paths.length ? paths : named.length ? named : e.paths.filter((p) => p.startsWith('/')) },
    ];
  }
  if (
    has(m, /\b(copy|deploy|push|upload|transfer|replace|roll out|place|put|drop in|drop into)\b/i) &&
    has(c, /\b(file|exe|binary|executable|artifact|build|dll|jar|config|it)\b|\.[a-z0-9]{2,4}\b|[\\/]/i)
  )
    return [fileCopy(clause, e)];
  if (has(m, /\b(update|upgrade|patch)\b|\bto\s+(?:the\s+)?latest\b/i) && (pkg || e.packages.length))
    return [{ kind: 'package-update', package: pkg ?? first(e.packages) }];
  if (has(m, /\b(uninstall|remove)\b/i) && (pkg || e.packages.length))
    return [{ kind: 'package-remove', package: pkg ?? first(e.packages) }];
  if (has(m, /\binstall\s+(?:a|the|some|any)\s+package\b/i) && !pkg)
    return [{ kind: 'package-install', package: null }];
  if (has(m, /\binstall\b/i) && (pkg || e.packages.length)) {
    const version = /\bversion\s+([0-9][A-Za-z0-9.+~:_-]*)\b|\b(?:=|@)([0-9][A-Za-z0-9.+~:_-]*)\b/i.exec(c);
    return [
      {
        kind: 'package-install',
        package: pkg ?? first(e.packages),
        ...(version && { version: (version[1] ?? version[2]) as string }),
      },
    ];
  }
  if (has(m, /\bversion\b/i) && (pkg || e.packages.length))
    return [{ kind: 'package-version', package: pkg ?? first(e.packages) }];

  const svc = service ?? (process ? process.replace(/\.exe$/i, '') : null);
  if (has(m, /\b(restart|bounce|recycle|reload|kick)\b/i)) return [{ kind: 'service-restart', service: svc }];
  if (has(m, /\b(stop|halt|shut down the|take down)\b/i)) return [{ kind: 'service-stop', service: svc }];
  if (has(m, /\b(start|bring (?:it |them )?(?:back )?up|launch|turn on)\b/i) && !has(m, /\bstartup\b/i))
    return [{ kind: 'service-start', service: svc }];
  if (has(m, /\b(verify|confirm|ensure|make sure|wait until|wait for|validate)\b/i) || has(m, /\bstartup\b/i)) {
    if (process && !service) return [{ kind: 'process-check', process, expect: 'running' }];
    return [{ kind: 'service-verify', service: svc }];
  }
  if (has(m, /\b(check|is|whether|status|running|state|see if|find out)\b/i)) {
    if (process) return [{ kind: 'process-check', process }];
    if (has(m, /\bprocess\b/i)) return [{ kind: 'process-check', process: service }];
    if (service || has(m, /\bservice\b/i)) return [{ kind: 'service-status', service: svc }];
  }
  return [];
};
