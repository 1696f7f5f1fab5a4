import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '@opsc/dev';

/** The repository's alert rules, their unit tests' neighbour, and the Grafana dashboard. */
export const ALERTS_FILE = path.join(REPO_ROOT, 'observability', 'prometheus', 'alerts.yml');
export const DASHBOARD_FILE = path.join(REPO_ROOT, 'observability', 'grafana', 'dashboards', 'opsconductor.json');

/**
 * Series a scrape of the services does not hold: Prometheus makes them itself for each target
 * (`up`, `scrape_*`). Left out of what the rules and dashboard "name".
 */
const SYNTHETIC = /^(up|scrape_[a-z_]+)$/;

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'atan2',
  'inf',
  'nan',
]);

/** A series name's family: a histogram's (or summary's) `_bucket`, `_sum` and `_count` are its own. */
export const familyOf = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');

/**
 * The metric names a PromQL expression reads, as families. Strings, label matchers, grouping
 * clauses, ranges, Grafana's variables and numbers go first; what remains and is not a function
 * call or a keyword is a metric name.
 */
export const metricNamesIn = (expr: string): string[] => {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/#.*$/gm, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?/g)) {
    const [, ident, call] = m;
    if (call || KEYWORDS.has(ident!.toLowerCase())) continue;
    // A grouping clause after the aggregation (`sum(x) by (l)`) was removed above; `offset 5m`'s
    // duration starts with a digit and never matches.
    names.add(familyOf(ident!));
  }
  return [...names].filter((n) => !SYNTHETIC.test(n)).sort();
};

interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; record?: string; expr: string; annotations?: Record<string, string> }[];
  }[];
}

/** PromQL the annotations' templates run (`{{ with query "..." }}`). */
const templateQueries = (text: string): string[] =>
  [...text.matchAll(/\bquery\s+"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);

/** Every PromQL expression of the rule file: the rules' and their annotations' queries. */
export const ruleExpressions = (file = ALERTS_FILE): string[] => {
  const rules = (parse(readFileSync(file, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
  return rules.flatMap((r) => [r.expr, ...Object.values(r.annotations ?? {}).flatMap(templateQueries)]);
};

interface Panel {
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating?: { list: { name: string; type: string; query?: unknown }[] };
}

export const readDashboard = (file = DASHBOARD_FILE): Dashboard => JSON.parse(readFileSync(file, 'utf8')) as Dashboard;

/** The dashboard's panels that draw something (rows, and the panels collapsed rows hold, flattened). */
export const dataPanels = (dashboard = readDashboard()): Panel[] =>
  dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));

/** Every PromQL expression of the dashboard: its panels' queries and its query variables'. */
export const dashboardExpressions = (dashboard = readDashboard()): string[] => [
  ...dataPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')),
  ...(dashboard.templating?.list ?? [])
    .filter((v) => v.type === 'query')
    .map((v) => (typeof v.query === 'string' ? v.query : ((v.query as { query?: string })?.query ?? ''))),
];

/** The metric families the alert rules and the dashboard name, sorted (no `up`, no `scrape_*`). */
export const observabilityMetricNames = (): string[] =>
  [...new Set([...ruleExpressions(), ...dashboardExpressions()].flatMap(metricNamesIn))].sort();

/**
 * The metric families a Prometheus text exposition holds: the `# TYPE` lines' names, and each
 * sample's name as a family (a counter's name keeps its `_total`, as its TYPE line says).
 */
export const exposedFamilies = (exposition: string): Set<string> => {
  const families = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) \S+/.exec(line);
    if (type) families.add(type[1]!);
    else if (/^[a-zA-Z_:]/.test(line)) families.add(familyOf(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]));
  }
  return families;
};
