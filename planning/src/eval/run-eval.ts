import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { proposePlan, type Planner } from '../propose.js';
import type { Category, EvalCase } from './corpus.js';
import { EVAL_GROUPS, EVAL_INVENTORY, EVAL_TARGETS, evalEgress, resolveEvalTargets } from './fixture.js';
import { observe } from './observe.js';
import { scoreCase, type InventoryIndex, type Verdict } from './score.js';

/** The fixture as the scorer reads it. */
export const EVAL_INDEX: InventoryIndex = {
  targets: Object.fromEntries(EVAL_TARGETS.map((t) => [t.name, t.os])),
  groups: Object.fromEntries(Object.entries(EVAL_GROUPS).map(([g, members]) => [g, members.map((t) => t.name)])),
};

export interface CaseResult {
  id: string;
  category: Category;
  request: string;
  verdict: Verdict;
  reasons: string[];
  /** Milliseconds `proposePlan` took: planning and validation. */
  ms: number;
  /** Which planner answered. */
  planner: string;
}

export interface EvalOptions {
  catalog: ToolCatalog;
  /** The planner under test; without it, the built-in planner. */
  llm?: Planner;
  /** Called after each case (progress for a slow model). */
  onCase?: (result: CaseResult, done: number, total: number) => void;
}

/** Plans one case through the real `proposePlan` and validator, then scores it. */
export const runCase = async (c: EvalCase, opts: EvalOptions): Promise<CaseResult> => {
  const started = performance.now();
  const proposal = await proposePlan(c.request, {
    catalog: opts.catalog,
    inventory: async () => EVAL_INVENTORY,
    resolveTargets: resolveEvalTargets,
    egress: evalEgress,
    ...(opts.llm && { llm: opts.llm }),
  });
  const ms = performance.now() - started;
  const score = scoreCase(c, await observe(proposal, opts.catalog, resolveEvalTargets), EVAL_INDEX);
  return { id: c.id, category: c.category, request: c.request, ...score, ms, planner: proposal.planner };
};

/** Runs the cases one after another (a local model has one slot; latencies stay comparable). */
export const runEval = async (cases: readonly EvalCase[], opts: EvalOptions): Promise<CaseResult[]> => {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(c, opts);
    results.push(r);
    opts.onCase?.(r, results.length, cases.length);
  }
  return results;
};

export interface Tally {
  cases: number;
  pass: number;
  partial: number;
  fail: number;
  /** (pass + partial / 2) / cases; 0 for no cases. */
  score: number;
}

export interface EvalSummary {
  categories: (Tally & { category: Category })[];
  overall: Tally;
  latency: { p50: number; p95: number; max: number };
}

const tally = (rs: readonly CaseResult[]): Tally => {
  const n = (v: Verdict) => rs.filter((r) => r.verdict === v).length;
  const [pass, partial, fail] = [n('pass'), n('partial'), n('fail')];
  return { cases: rs.length, pass, partial, fail, score: rs.length ? (pass + partial / 2) / rs.length : 0 };
};

/** The nearest-rank percentile of a list of numbers; 0 for none. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};

/** Per category (in the corpus's order) and overall, with latency p50/p95 per case. */
export const summarize = (results: readonly CaseResult[]): EvalSummary => {
  const order = [...new Set(results.map((r) => r.category))];
  const ms = results.map((r) => r.ms);
  return {
    categories: order.map((category) => ({ category, ...tally(results.filter((r) => r.category === category)) })),
    overall: tally(results),
    latency: { p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms.length ? Math.max(...ms) : 0 },
  };
};

/** A small seeded generator (mulberry32): the same sample on every run. */
const seeded = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/**
 * `n` cases stratified by category: each category gets its share of `n` (largest remainders),
 * at least one when `n` allows, picked by a seeded shuffle; the corpus's order is kept.
 */
export const stratifiedSample = (cases: readonly EvalCase[], n: number, seed = 18): EvalCase[] => {
  if (n >= cases.length) return [...cases];
  const random = seeded(seed);
  const byCategory = new Map<Category, EvalCase[]>();
  for (const c of cases) byCategory.set(c.category, [...(byCategory.get(c.category) ?? []), c]);
  const groups = [...byCategory.entries()];
  const quota = groups.map(([, cs]) => (n * cs.length) / cases.length);
  const take = quota.map(Math.floor);
  const byRemainder = quota.map((q, i) => ({ i, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; take.reduce((s, x) => s + x, 0) < n; k++) take[byRemainder[k % groups.length]!.i]!++;
  // Every category is seen once when n allows: taken from the category with the most.
  if (n >= groups.length)
    for (const [i] of groups.entries()) {
      if (take[i]! > 0) continue;
      const donor = take.indexOf(Math.max(...take));
      take[donor]!--;
      take[i] = 1;
    }
  const picked = new Set<EvalCase>();
  for (const [i, [, cs]] of groups.entries()) {
    const shuffled = [...cs];
    for (let j = shuffled.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [shuffled[j], shuffled[k]] = [shuffled[k]!, shuffled[j]!];
    }
    for (const c of shuffled.slice(0, take[i])) picked.add(c);
  }
  return cases.filter((c) => picked.has(c));
};
