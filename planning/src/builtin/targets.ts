import type { DraftStep, OsFamily, TargetSelector } from '@opsc/contracts';
import type { Entities, InventorySketch } from './entities.js';
import type { Clause } from './spans.js';
import { hostLikeNames, unknownNameNote } from './suggestions.js';

/*
 * Which targets the steps act on. A request names one selector (a group, target names, "all linux
 * servers"), or one per part ("restart nginx on web-01, then stop it on Production Web"): each step
 * gets the one its own part names, the part before's when it names none. An exclusion ("every server
 * except db-01") is not something the built-in planner can select: it is refused, never planned on
 * the excluded name. A name the request gives that no step acts on is said in a note.
 */

/** "all linux servers", "every Windows host": every target of that OS in the inventory. */
const ALL_OF_OS =
  /\b(?:all|every|each)\s+(?:of\s+)?(?:the\s+|our\s+|my\s+)?(linux|windows)\s+(?:servers?|hosts?|machines?|systems?|targets?|nodes?|boxes|box|vms?)\b/i;

/** "every server we have", "all servers": every target in the inventory (named, no group). */
const ALL_TARGETS =
  /\b(?:all|every|each)\s+(?:of\s+)?(?:the\s+|our\s+|my\s+)?(?:servers?|hosts?|machines?|systems?|targets?|nodes?)\b(?!\s+(?:in|of)\b)/i;

export interface Selection {
  targets?: TargetSelector;
  /** How many targets it is, when the sketch knows. */
  size?: number;
  notes: string[];
}

/** Which targets the steps act on, and what the request named that the inventory does not have. */
export const selectionOf = (e: Entities, masked: string, sketch: InventorySketch, full: InventorySketch): Selection => {
  const notes: string[] = [];
  const groupNames = full.groups.map((g) => g.name);
  const targetNames = full.targets.map((t) => t.name);
  for (const g of e.unknownGroups) notes.push(unknownNameNote('group', g, groupNames));
  const hostLike = hostLikeNames(masked).filter((n) => !targetNames.some((t) => t.toLowerCase() === n.toLowerCase()));
  if (e.groups.length) {
    const group = e.groups[0] as string;
    for (const h of hostLike) notes.push(`${unknownNameNote('target', h, targetNames)} (not used)`);
    const size = e.os ? undefined : sketch.groups.find((g) => g.name === group)?.size;
    return { targets: { group, ...(e.os && { os: e.os }) }, ...(size !== undefined && { size }), notes };
  }
  if (e.targets.length) {
    for (const h of hostLike) notes.push(`${unknownNameNote('target', h, targetNames)} (not used)`);
    return { targets: { targets: e.targets }, size: e.targets.length, notes };
  }
  if (e.unknownGroups.length) return { targets: { group: e.unknownGroups[0] as string }, notes };
  const os = ALL_OF_OS.exec(masked)?.[1]?.toLowerCase() as OsFamily | undefined;
  if (!os && ALL_TARGETS.test(masked) && sketch.targets.length) {
    const all = sketch.targets.map((t) => t.name);
    notes.push(`the plan acts on every target in the inventory (${all.length})`);
    return { targets: { targets: all }, size: all.length, notes };
  }
  if (os) {
    const all = sketch.targets.filter((t) => t.os === os).map((t) => t.name);
    if (all.length) {
      notes.push(
        `the plan acts on every ${os === 'linux' ? 'Linux' : 'Windows'} target in the inventory (${all.length})`,
      );
      return { targets: { targets: all, os }, size: all.length, notes };
    }
  }
  if (hostLike.length) {
    for (const h of hostLike) notes.push(unknownNameNote('target', h, targetNames));
    return { targets: { targets: hostLike }, notes };
  }
  return { notes };
};

/** Words that leave something out; `without` and `not on` only before a name ("without downtime" is not one). */
const EXCLUDING =
  /\b(?:(except(?:\s+for)?|but\s+not|other\s+than|excluding|exclude|apart\s+from|aside\s+from|save\s+for|skipping|leaving\s+out|(?:everything|everywhere|all)\s+but)|without|not\s+on)\b/gi;
/** What may follow "except" without being left out: "except if it is busy" is a condition. */
const NOT_LEFT_OUT = /(?:if|when|whenever|where|that|this|in\s+case)\b/iy;
/** Anything else after a word that surely leaves something out: "except sshd", "but not restart it". */
const ANY_WORD = /[A-Za-z_][\w-]*/y;
/** What may stand between that word and a name: "except the host db-01", "apart from the Databases group". */
const BETWEEN =
  /(?:\s+(?:the|for|on|in|from|of|those|ones?|any|all|host|hosts|server|servers|machine|machines|target|targets|group|groups|node|nodes|box|boxes|vm|vms))*\s+/iy;
/** A name or a kind of targets: an inventory token, a host-like word, a quoted name, an OS, servers. */
const EXCLUDED =
  /(?:opscinvref\d+|_{2,}|[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)+|[A-Za-z]+[0-9][A-Za-z0-9]*|linux|windows|servers?|hosts?|machines?|targets?|nodes?|boxes|vms?|group|ones)\b/iy;

/**
 * The exclusion a request makes ("except db-01"), as the request wrote it; `null` when it makes none.
 * Read on the masked request: a quoted name counts, other literal text does not. A service left out
 * ("stop all services except the php-fpm service") is refused the same way: planned, it would be
 * the one stopped.
 */
export const exclusionIn = (text: string, masked: string): string | null => {
  // Sticky patterns read on from where the word ends: no copy of the rest of the request per word.
  const between = new RegExp(BETWEEN.source, 'iy');
  const excluded = new RegExp(EXCLUDED.source, 'iy');
  const notLeftOut = new RegExp(NOT_LEFT_OUT.source, 'iy');
  const anyWord = new RegExp(ANY_WORD.source, 'y');
  for (const hit of masked.matchAll(EXCLUDING)) {
    between.lastIndex = hit.index + hit[0].length;
    if (!between.exec(masked)) continue;
    const at = between.lastIndex;
    excluded.lastIndex = at;
    notLeftOut.lastIndex = at;
    anyWord.lastIndex = at;
    const name =
      excluded.exec(masked)?.[0] ?? (hit[1] && !notLeftOut.test(masked) ? anyWord.exec(masked)?.[0] : undefined);
    if (!name) continue;
    if (name.startsWith('_') && !/['"‘“]/.test(text.charAt(at))) continue;
    return text.slice(hit.index, at + name.length);
  }
  return null;
};

export const exclusionRefusal = (phrase: string): string =>
  `I can't plan "${phrase}": the built-in planner does not support exclusions, and it will neither act on what it was told to leave out nor drop it. Name the targets (and services) to act on, or plan on the whole group and edit the plan's targets before it runs (the web editor can).`;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
const mentions = (text: string, name: string) =>
  new RegExp(`(?<![A-Za-z0-9_-])${escape(name)}(?![A-Za-z0-9_-])`, 'i').test(text);

/** The selection of the clauses at `at` when read on their own. */
const ownSelection = (
  clauses: Clause[],
  e: Entities,
  sketch: InventorySketch,
  full: InventorySketch,
): Selection | null => {
  const text = clauses.map((c) => c.text).join(' ; ');
  const masked = clauses.map((c) => c.masked).join(' ; ');
  const own = {
    ...e,
    groups: e.groups.filter((g) => mentions(text, g)),
    targets: e.targets.filter((t) => mentions(text, t)),
    unknownGroups: e.unknownGroups.filter((g) => mentions(text, g)),
  };
  const selection = selectionOf(own, masked, sketch, full);
  return selection.targets ? selection : null;
};

export interface Placement {
  /** The targets of the steps that came from clause `i` (every step, when the request names one selector). */
  at: (clause: number | undefined) => TargetSelector | undefined;
  size?: number;
  notes: string[];
}

/**
 * Where each clause's steps go. `stepful[i]` says whether clause i gave a step: a clause without one
 * ("db-02 and db-03", "on web-01") belongs to the step clause before it (the first one, when it leads).
 */
export const placeSteps = (
  clauses: Clause[],
  stepful: boolean[],
  e: Entities,
  masked: string,
  sketch: InventorySketch,
  full: InventorySketch,
): Placement => {
  const owner: number[] = [];
  let current = stepful.indexOf(true);
  for (const [i, has] of stepful.entries()) {
    if (has) current = i;
    owner.push(current);
  }
  const parts = [...new Set(owner)].filter((i) => i >= 0);
  const own = new Map(
    parts.map((p) => [
      p,
      ownSelection(
        clauses.filter((_, i) => owner[i] === p),
        e,
        sketch,
        full,
      ),
    ]),
  );
  const named = [...own.values()].filter((s): s is Selection => s !== null);
  if (new Set(named.map((s) => JSON.stringify(s.targets))).size <= 1) {
    const whole = selectionOf(e, masked, sketch, full);
    return { at: () => whole.targets, ...(whole.size !== undefined && { size: whole.size }), notes: whole.notes };
  }
  // Several selectors: each part's own, carried forward to the parts that name none.
  const byPart = new Map<number, TargetSelector | undefined>();
  let carried = named[0]?.targets;
  for (const p of parts) {
    carried = own.get(p)?.targets ?? carried;
    byPart.set(p, carried);
  }
  const sizes = new Set(named.map((s) => s.size));
  const size = sizes.size === 1 ? [...sizes][0] : undefined;
  return {
    at: (clause) => byPart.get(owner[clause ?? 0] ?? -1) ?? named[0]?.targets,
    ...(size !== undefined && { size }),
    notes: [...new Set(named.flatMap((s) => s.notes))],
  };
};

/** A note for every inventory group or target the request names that no step acts on. */
export const unusedNameNotes = (e: Entities, steps: Omit<DraftStep, 'id'>[]): string[] => {
  const acting = steps.filter((s) => s.targets);
  if (!acting.length) return [];
  const used = new Set(
    steps.flatMap((s) => [s.targets?.group, ...(s.targets?.targets ?? []), JSON.stringify(s.params)]),
  );
  const usedIn = (name: string) => used.has(name) || [...used].some((u) => typeof u === 'string' && mentions(u, name));
  const selectors = [...new Set(acting.map((s) => describe(s.targets!)))].join(' and ');
  return [...e.groups.map((g) => ['group', g] as const), ...e.targets.map((t) => ['target', t] as const)]
    .filter(([, name]) => !usedIn(name))
    .map(
      ([kind, name]) =>
        `the request names ${kind} '${name}', but no step acts on it by name: the steps act on ${selectors}; edit the plan's targets to change that`,
    );
};

const describe = (s: TargetSelector): string =>
  s.group
    ? `group '${s.group}'${s.os ? ` (its ${s.os === 'linux' ? 'Linux' : 'Windows'} targets)` : ''}`
    : (s.targets?.length ?? 0) > 3
      ? `${s.targets?.length} targets`
      : (s.targets ?? []).map((t) => `'${t}'`).join(', ');
