import type { InventorySketch } from './entities.js';

/**
 * Inventory names are data, never words of the request: a target called "web-1 then stop sshd" or a
 * group called "delete me" must not add a step, a policy or a refusal. Before the planner reads a
 * request, every inventory name it mentions becomes an opaque token; the planner works on tokens
 * and the draft gets the real names back.
 */
export interface NeutralRequest {
  text: string;
  inventory: InventorySketch;
  /** A token back to the name it stands for. */
  nameOf: (value: string) => string;
}

const TOKEN_PREFIX = 'opscinvref';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
/** A name as whole words, any case: not part of a longer name or word. */
const wholeName = (name: string) => new RegExp(`(?<![A-Za-z0-9_-])${escape(name)}(?![A-Za-z0-9_-])`, 'gi');

export const neutralizeInventoryNames = (request: string, inventory: InventorySketch): NeutralRequest => {
  const names = [...new Set([...inventory.groups.map((g) => g.name), ...inventory.targets.map((t) => t.name)])]
    // Longer names first: "Production Web" is replaced before "Web" could split it.
    .sort((a, b) => b.length - a.length);
  const tokenOf = new Map<string, string>();
  const nameByToken = new Map<string, string>();
  let text = request;
  const lowered = request.toLowerCase().replace(/\s+/g, ' ');
  for (const name of names) {
    // A cheap look first: most of a large inventory is not in the request at all.
    if (!lowered.includes(name.toLowerCase().replace(/\s+/g, ' '))) continue;
    const pattern = wholeName(name);
    if (!pattern.test(text)) continue;
    const token = `${TOKEN_PREFIX}${tokenOf.size}`;
    tokenOf.set(name, token);
    nameByToken.set(token, name);
    text = text.replace(wholeName(name), token);
  }
  const sketch: InventorySketch = {
    groups: inventory.groups.map((g) => ({ ...g, name: tokenOf.get(g.name) ?? g.name })),
    targets: inventory.targets.map((t) => ({ ...t, name: tokenOf.get(t.name) ?? t.name })),
  };
  const tokens = new RegExp(`${TOKEN_PREFIX}\\d+`, 'g');
  return {
    text,
    inventory: sketch,
    nameOf: (value) => value.replace(tokens, (token) => nameByToken.get(token) ?? token),
  };
};

/** Every string in a draft with its tokens turned back into names. */
export const restoreNames = <T>(value: T, nameOf: (value: string) => string): T => {
  if (typeof value === 'string') return nameOf(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => restoreNames(v, nameOf)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restoreNames(v, nameOf)])) as T;
  return value;
};
