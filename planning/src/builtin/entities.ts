import type { OsFamily } from '@opsc/contracts';
import { FENCED, INLINE_CODE, POSIX_PATH, UNC_PATH, URL, WINDOWS_PATH } from './spans.js';

/** What the planner may know of the inventory: names only, never addresses' secrets. */
export interface InventorySketch {
  groups: { name: string; size: number }[];
  targets: { name: string; os: OsFamily }[];
}

/** The things a request names. */
export interface Entities {
  groups: string[];
  /** Quoted names or "group X" phrases that are not inventory groups. */
  unknownGroups: string[];
  targets: string[];
  /** Host names and IPs that are not inventory targets (what ping and traceroute reach). */
  hosts: string[];
  urls: string[];
  services: string[];
  processes: string[];
  packages: string[];
  /** Absolute paths, POSIX or Windows. */
  paths: string[];
  /** Backticked text: a command or script as the operator wrote it. */
  code: string[];
  count?: number;
  os?: OsFamily;
}

const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
const QUOTED = /'([^']{1,200})'|"([^"]{1,200})"|‘([^’]{1,200})’|“([^”]{1,200})”/g;
const EXE = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_][A-Za-z0-9_.-]{0,100}\.exe)\b/gi;
const HOSTNAME = /\b([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)\b/gi;

/** Words that follow "the" and precede "service" without being a service's name. */
const NOT_A_NAME = new Set([
  'the',
  'a',
  'an',
  'this',
  'that',
  'its',
  'their',
  'it',
  'all',
  'each',
  'every',
  'same',
  'windows',
  'linux',
  'web',
  'new',
  'old',
  'system',
  'any',
  'then',
  'and',
  'on',
  'in',
  'of',
  'for',
  'to',
  'from',
  'status',
  'state',
  'service',
  'services',
  'process',
  'package',
  'servers',
  'server',
  'hosts',
  'machines',
  'latest',
  'version',
  'current',
  'newest',
  'is',
  'are',
  'be',
  'if',
  'whether',
  'running',
  'stopped',
  'active',
  'up',
  'down',
  'please',
  'now',
  // Verbs: "restart service", "stop the service".
  'stop',
  'start',
  'restart',
  'reload',
  'bounce',
  'recycle',
  'halt',
  'launch',
  'check',
  'verify',
  'confirm',
  'ensure',
  'copy',
  'update',
  'upgrade',
  'install',
  'remove',
  'uninstall',
  'enable',
  'disable',
  'query',
  'get',
  'show',
  'list',
  'report',
  'backup',
  'restore',
  'wait',
  'make',
  'sure',
  'called',
  'named',
  'out',
  'of',
  'disk',
  'free',
  'a',
  'whether',
]);

const unique = <T>(items: T[]): T[] => [...new Set(items)];
const lower = (s: string) => s.toLowerCase();

/** Finds an inventory name in the text: quoted or not, any case, as whole words. */
const mentions = (text: string, name: string): boolean => {
  // Inventory names the request mentions are tokens by now: a cheap look rules out the rest.
  if (!/\s/.test(name) && !text.toLowerCase().includes(name.toLowerCase())) return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(`(^|[^A-Za-z0-9_-])${escaped}($|[^A-Za-z0-9_-])`, 'i').test(text);
};

const nameAround = (text: string, before: RegExp, after: RegExp): string[] => {
  const found: string[] = [];
  for (const m of text.matchAll(before)) if (m[1] && !NOT_A_NAME.has(lower(m[1]))) found.push(m[1]);
  for (const m of text.matchAll(after)) if (m[1] && !NOT_A_NAME.has(lower(m[1]))) found.push(m[1]);
  return found;
};

export const extractEntities = (request: string, inventory: InventorySketch): Entities => {
  const fenced = [...request.matchAll(FENCED)].map((m) => m[1] ?? '');
  const withoutFenced = request.replace(FENCED, ' ');
  const code = [...fenced, ...[...withoutFenced.matchAll(INLINE_CODE)].map((m) => m[1] ?? '')];
  // Code is the operator's text, not names to interpret.
  const text = withoutFenced.replace(INLINE_CODE, ' ');
  const quoted = [...text.matchAll(QUOTED)].map((m) => (m[1] ?? m[2] ?? m[3] ?? m[4] ?? '').trim()).filter(Boolean);
  const urls = unique([...text.matchAll(URL)].map((m) => m[0].replace(/[.,;)]+$/, '')));
  const noUrls = text.replace(URL, ' ');

  const groups = inventory.groups
    .map((g) => g.name)
    .filter((name) => mentions(noUrls, name))
    .sort((a, b) => b.length - a.length);
  // A longer group name hides the shorter ones it contains ("Production Web" over "Web").
  const keptGroups = groups.filter(
    (g) =>
      !groups.some((other) => other !== g && other.toLowerCase().includes(g.toLowerCase()) && mentions(noUrls, other)),
  );
  const targets = inventory.targets.map((t) => t.name).filter((name) => mentions(noUrls, name));
  const knownNames = new Set([
    ...inventory.groups.map((g) => lower(g.name)),
    ...inventory.targets.map((t) => lower(t.name)),
  ]);

  const groupPhrases = [
    ...[...noUrls.matchAll(/\bgroups?\s+(?:named\s+|called\s+)?['"‘“]([^'"’”]+)['"’”]/gi)].map((m) => m[1] ?? ''),
    // "stop dataprocessor on 'Data Procesing'": a quoted name where targets go.
    ...[...noUrls.matchAll(/\b(?:on|across|against)\s+(?:the\s+|all\s+|every\s+)?['"‘“]([^'"’”]+)['"’”]/gi)].map(
      (m) => m[1] ?? '',
    ),
    ...[...noUrls.matchAll(/['"‘“]([^'"’”]+)['"’”]\s+(?:group|servers|hosts|machines|systems|fleet)\b/gi)].map(
      (m) => m[1] ?? '',
    ),
  ];
  const unknownGroups = unique(groupPhrases.filter((g) => g && !knownNames.has(lower(g))));

  const windowsPaths = [...noUrls.matchAll(WINDOWS_PATH), ...noUrls.matchAll(UNC_PATH)].map((m) =>
    m[0].replace(/[.,;]+$/, ''),
  );
  const posixPaths = [...noUrls.replace(WINDOWS_PATH, ' ').replace(UNC_PATH, ' ').matchAll(POSIX_PATH)].map((m) =>
    m[0].replace(/[.,;]+$/, ''),
  );
  const paths = unique([...windowsPaths, ...posixPaths]);
  const processes = unique([
    ...[...noUrls.replace(WINDOWS_PATH, ' ').matchAll(EXE)].map((m) => m[1] ?? ''),
    // "is sshd running", "whether the nginx process is alive"
    ...[
      ...noUrls.matchAll(
        /\b(?:is|are|whether|if)\s+(?:the\s+)?([A-Za-z0-9_][A-Za-z0-9._-]*)\s+(?:process\s+|daemon\s+)?(?:still\s+)?(?:running|up|alive)\b/gi,
      ),
    ]
      .map((m) => m[1] ?? '')
      .filter((n) => !NOT_A_NAME.has(lower(n)) && !knownNames.has(lower(n))),
    ...[
      ...noUrls.matchAll(
        /\b(?:if|whether)\s+(?:the\s+)?([A-Za-z0-9_][A-Za-z0-9._-]*)\s+(?:process\s+|daemon\s+)?(?:is|are)\s+(?:still\s+)?(?:running|up|alive)\b/gi,
      ),
    ]
      .map((m) => m[1] ?? '')
      .filter((n) => !NOT_A_NAME.has(lower(n)) && !knownNames.has(lower(n))),
    ...[...noUrls.matchAll(/\bprocess(?:es)?\s+(?:named\s+|called\s+)?['"]?([A-Za-z0-9_][A-Za-z0-9._-]*)/gi)]
      .map((m) => m[1] ?? '')
      .filter((n) => !NOT_A_NAME.has(lower(n))),
  ]);

  const verbObjects = [
    ...noUrls.matchAll(
      /\b(?:restart|stop|start|bounce|reload|recycle|halt|kick)\s+(?:the\s+)?['"‘“]?([A-Za-z0-9_][A-Za-z0-9@._-]*)/gi,
    ),
  ]
    .map((m) => m[1] ?? '')
    .filter((n) => !NOT_A_NAME.has(lower(n)) && !knownNames.has(lower(n)) && !/\.exe$/i.test(n));
  const services = unique([
    ...nameAround(
      noUrls,
      /(?<![A-Za-z0-9@._-])([A-Za-z0-9_][A-Za-z0-9@._-]*)\s+(?:service|daemon|unit)s?\b/gi,
      /\b(?:service|daemon|unit)\s+['"‘“]?([A-Za-z0-9_][A-Za-z0-9@._-]*)/gi,
    ),
    ...verbObjects,
    // "status of sshd", "check nginx status", "check nginx on ...", "service called X", "sure X is running"
    ...[
      ...nameAround(
        noUrls,
        /\bstatus\s+of\s+(?:the\s+)?(?:service\s+)?['"‘“]?([A-Za-z0-9_][A-Za-z0-9@._-]*)/gi,
        /\b(?:called|named)\s+['"‘“]?([A-Za-z0-9_][A-Za-z0-9@._-]*)/gi,
      ),
      ...nameAround(
        noUrls,
        /\bcheck\s+(?:the\s+)?([A-Za-z0-9_][A-Za-z0-9@._-]*)\s+(?:service\s+)?(?:status|state|on|across|in)\b/gi,
        /\b(?:sure|that|ensure|until|till)\s+(?:the\s+)?([A-Za-z0-9_][A-Za-z0-9@._-]*)\s+(?:service\s+|daemon\s+)?(?:is|are)\s+(?:still\s+)?(?:running|up|alive|started|active)\b/gi,
      ),
    ].filter((n) => !knownNames.has(lower(n)) && !/\.exe$/i.test(n) && !/^opscinvref\d+$/.test(n)),
    ...quoted.filter((q) =>
      new RegExp(`['"‘“]${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"’”]\\s+(?:service|daemon)`, 'i').test(noUrls),
    ),
  ]).map((s) => s.replace(/^['"]|['"]$/g, ''));

  const packages = unique(
    nameAround(
      noUrls,
      /\b(?:update|upgrade|install|reinstall|patch|uninstall|remove)\s+(?:the\s+)?(?:package\s+)?['"]?([A-Za-z0-9][A-Za-z0-9+._-]*)/gi,
      /\b(?:version\s+of|versions?\s+of)\s+(?:the\s+)?['"]?([A-Za-z0-9][A-Za-z0-9+._-]*)/gi,
    ).filter((p) => !knownNames.has(lower(p))),
  );
  // "get nginx on production web to the latest version"
  const toLatest = [
    ...noUrls.matchAll(
      /\b(?:get|bring|move)\s+(?:the\s+)?([A-Za-z0-9][A-Za-z0-9+._-]*)\b[^,;.]{0,80}?\bto\s+(?:the\s+)?latest\b/gi,
    ),
  ]
    .map((m) => m[1] ?? '')
    .filter((p) => !NOT_A_NAME.has(lower(p)) && !knownNames.has(lower(p)));
  const packagesBefore = [
    ...noUrls.matchAll(/(?<![A-Za-z0-9+._-])([A-Za-z0-9][A-Za-z0-9+._-]*)\s+(?:package|version)\b/gi),
  ]
    .map((m) => m[1] ?? '')
    .filter((p) => !NOT_A_NAME.has(lower(p)));

  const targetSet = new Set(targets.map(lower));
  const hosts = unique([
    ...[...noUrls.matchAll(IPV4)].map((m) => m[0]),
    ...[...noUrls.replace(WINDOWS_PATH, ' ').replace(POSIX_PATH, ' ').matchAll(HOSTNAME)]
      .map((m) => m[1] ?? '')
      .filter((h) => !/\.exe$/i.test(h) && !/^\d+(\.\d+)*$/.test(h) && /[a-z]/i.test(h.split('.').at(-1) ?? '')),
  ]).filter((h) => !targetSet.has(lower(h)));

  const countMatch =
    /\b(\d{1,5})\s+(?:windows\s+|linux\s+)?(?:servers?|hosts?|systems?|machines?|targets?|nodes?|boxes)\b/i.exec(
      noUrls,
    );
  const os: OsFamily | undefined = /\bwindows\b/i.test(noUrls)
    ? 'windows'
    : /\blinux\b/i.test(noUrls)
      ? 'linux'
      : undefined;

  return {
    groups: keptGroups,
    unknownGroups,
    targets,
    hosts,
    urls,
    services,
    processes,
    packages: unique([...packages, ...toLatest, ...packagesBefore.filter((p) => !knownNames.has(lower(p)))]),
    paths,
    code,
    ...(countMatch && { count: Number(countMatch[1]) }),
    ...(os && { os }),
  };
};
