import type { EvalCase, Expectation, SECONDARY } from './corpus.js';
import type { Observed } from './observe.js';

/*
 * One case's verdict, a pure function of the case, what the proposal said and the inventory:
 * - fail: a primary expectation is wrong: the status, the tools (order, forbidden ones), the
 *   targets, or approval missing where it is needed; or the planner under test did not answer;
 * - partial: every primary expectation holds, a secondary one does not: risk, approval asked where
 *   none is needed, policies, step parameters, missing inputs, text (unless the case names that
 *   field in its `primary`: the point of the case, so a miss fails it);
 * - pass: everything the case states holds.
 * A case with `anyOf` takes its best verdict. Plan content is checked only when there is a draft.
 */

export type Verdict = 'pass' | 'partial' | 'fail';

export interface CaseScore {
  verdict: Verdict;
  /** Why it is not a pass: each wrong expectation, one line each. */
  reasons: string[];
}

/** The inventory as the scorer needs it: every target's OS, and each group's members. */
export interface InventoryIndex {
  targets: Readonly<Record<string, string>>;
  groups: Readonly<Record<string, readonly string[]>>;
}

const list = (xs: readonly unknown[]) => (xs.length ? xs.map((x) => JSON.stringify(x)).join(', ') : 'none');
const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
const norm = (v: unknown): unknown =>
  typeof v === 'string' ? v.trim().toLowerCase() : Array.isArray(v) ? v.map(norm) : v;
const equal = (a: unknown, b: unknown) => JSON.stringify(norm(a)) === JSON.stringify(norm(b));
const flat = (v: unknown): string =>
  Array.isArray(v) ? v.map(flat).join(' ') : typeof v === 'object' && v ? JSON.stringify(v) : String(v ?? '');

/** `expected` appears in `actual` in this order, others allowed between. */
const inOrder = (expected: readonly string[], actual: readonly string[]) => {
  let at = 0;
  for (const tool of actual) if (tool === expected[at]) at++;
  return at === expected.length;
};

const checkTargets = (want: NonNullable<Expectation['targets']>, o: Observed, inv: InventoryIndex): string[] => {
  if (o.targets === null) return ['targets: the plan names no targets'];
  if ('error' in o.targets) return [`targets: the plan's targets do not resolve (${o.targets.error})`];
  const got = o.targets.names;
  const osOf = (n: string) => o.targets && 'os' in o.targets && o.targets.os[n];
  const ofOs = (names: readonly string[]) => names.filter((n) => !want.os || inv.targets[n] === want.os);
  const out: string[] = [];
  const shown = got.length > 6 ? `${got.length} targets` : list(got);
  if (want.group !== undefined) {
    const members = inv.groups[want.group];
    if (!members) out.push(`targets: the corpus names a group the fixture lacks: ${want.group}`);
    else if (!sameSet(got, ofOs(members)))
      out.push(`targets: expected group ${JSON.stringify(want.group)}${want.os ? ` (${want.os})` : ''}, got ${shown}`);
  }
  if (want.names && !sameSet(got, want.names)) out.push(`targets: expected ${list(want.names)}, got ${shown}`);
  const absent = (want.includes ?? []).filter((n) => !got.includes(n));
  if (absent.length) out.push(`targets: missing ${list(absent)}`);
  if (want.all && !sameSet(got, ofOs(Object.keys(inv.targets))))
    out.push(`targets: expected every ${want.os ?? ''} target of the inventory, got ${shown}`);
  if (want.os && got.some((n) => osOf(n) !== want.os)) out.push(`targets: expected only ${want.os} targets`);
  if (want.count !== undefined && got.length !== want.count)
    out.push(`targets: expected ${want.count} targets, got ${got.length}`);
  return out;
};

const checkSteps = (want: NonNullable<Expectation['steps']>, o: Observed): string[] =>
  want.flatMap((w) => {
    const candidates = o.steps.filter((s) => s.tool === w.tool);
    if (candidates.length === 0) return [`steps: no ${w.tool} step`];
    const fits = candidates.some(
      (s) =>
        Object.entries(w.params ?? {}).every(([k, v]) => equal(s.params[k], v)) &&
        Object.entries(w.contains ?? {}).every(([k, v]) => flat(s.params[k]).toLowerCase().includes(v.toLowerCase())),
    );
    if (fits) return [];
    const got = candidates.map((s) => JSON.stringify(s.params)).join(' | ');
    const wanted = JSON.stringify({ ...w.params, ...(w.contains && { contains: w.contains }) });
    return [`steps: no ${w.tool} step with ${wanted} (got ${got.length > 160 ? `${got.slice(0, 157)}...` : got})`];
  });

/** One expectation against one observation. */
export const scoreExpectation = (e: Expectation, o: Observed, inv: InventoryIndex): CaseScore => {
  const primary: string[] = [];
  const secondary: string[] = [];
  const miss = (field: (typeof SECONDARY)[number], reason: string) =>
    (e.primary?.includes(field) ? primary : secondary).push(reason);
  if (o.fallbackReason) primary.push(`the planner under test did not answer: ${o.fallbackReason}`);
  const statuses = Array.isArray(e.status) ? e.status : [e.status];
  if (!statuses.includes(o.status)) {
    const said =
      o.status === 'refused' || o.status === 'invalid' ? ` (${o.text.replace(/\n/g, ' ').slice(0, 160)})` : '';
    primary.push(`status: expected ${statuses.join(' or ')}, got ${o.status}${said}`);
  }
  if (o.hasDraft) {
    if (e.tools) {
      const ok = e.exactTools ? o.tools.join() === e.tools.join() : inOrder(e.tools, o.tools);
      if (!ok) primary.push(`tools: expected ${e.exactTools ? '' : 'in order '}${list(e.tools)}, got ${list(o.tools)}`);
    }
    const forbidden = (e.notTools ?? []).filter((t) => o.tools.includes(t));
    if (forbidden.length) primary.push(`tools: must not use ${list(forbidden)}`);
    if (e.targets) primary.push(...checkTargets(e.targets, o, inv));
    if (e.approval !== undefined && o.approval !== e.approval) {
      const got = o.approval === null ? 'unknown' : o.approval ? 'required' : 'not required';
      const reason = `approval: expected ${e.approval ? 'required' : 'not required'}, got ${got}`;
      // Approval missing where it is needed is never a detail.
      if (e.approval) primary.push(reason);
      else miss('approval', reason);
    }
    if (e.risk && o.risk !== e.risk) miss('risk', `risk: expected ${e.risk}, got ${o.risk ?? 'unknown'}`);
    for (const [k, v] of Object.entries(e.policies ?? {}))
      if (!equal(o.policies[k], v))
        miss('policies', `policies.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(o.policies[k])}`);
    for (const reason of e.steps ? checkSteps(e.steps, o) : []) miss('steps', reason);
  }
  const unasked = (e.missing ?? []).filter((m) => !o.missing.some((path) => path.split('.').includes(m)));
  if (unasked.length) miss('missing', `missing: expected a question for ${list(unasked)}, got ${list(o.missing)}`);
  const text = o.text.toLowerCase();
  const absent = (e.textIncludes ?? []).filter((t) => !text.includes(t.toLowerCase()));
  if (absent.length) miss('textIncludes', `text: does not mention ${list(absent)}`);
  const present = (e.textExcludes ?? []).filter((t) => text.includes(t.toLowerCase()));
  if (present.length) miss('textExcludes', `text: mentions ${list(present)}`);
  const reasons = [...primary, ...secondary];
  return { verdict: primary.length ? 'fail' : secondary.length ? 'partial' : 'pass', reasons };
};

const RANK: Record<Verdict, number> = { pass: 2, partial: 1, fail: 0 };

/** A case's verdict: its expectation's, or the best of its `anyOf` (fewer reasons, then the first, on a tie). */
export const scoreCase = (c: EvalCase, o: Observed, inv: InventoryIndex): CaseScore => {
  const scores = (c.anyOf ?? (c.expect ? [c.expect] : [])).map((e) => scoreExpectation(e, o, inv));
  const better = (s: CaseScore, b: CaseScore) =>
    RANK[s.verdict] > RANK[b.verdict] || (RANK[s.verdict] === RANK[b.verdict] && s.reasons.length < b.reasons.length);
  const best = scores.reduce<CaseScore | null>((b, s) => (!b || better(s, b) ? s : b), null);
  if (!best) return { verdict: 'fail', reasons: ['the case states no expectation'] };
  if (scores.length > 1 && best.verdict !== 'pass')
    return { ...best, reasons: best.reasons.map((r) => `closest alternative: ${r}`) };
  return best;
};
