/** An Ansible inventory as parsed, before it becomes targets and groups. */
export interface AnsibleInventory {
  hosts: Map<string, { vars: Record<string, string>; line: number }>;
  groups: Map<string, { hosts: string[]; children: string[]; vars: Record<string, string>; line: number }>;
}

/** A problem in the inventory file, with the line it is on. */
export class InventoryFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export const emptyInventory = (): AnsibleInventory => ({ hosts: new Map(), groups: new Map() });

export const groupOf = (inv: AnsibleInventory, name: string, line: number) => {
  let group = inv.groups.get(name);
  if (!group) {
    group = { hosts: [], children: [], vars: {}, line };
    inv.groups.set(name, group);
  }
  return group;
};

export const addHost = (inv: AnsibleInventory, name: string, vars: Record<string, string>, line: number): void => {
  const host = inv.hosts.get(name);
  if (host) Object.assign(host.vars, vars);
  else inv.hosts.set(name, { vars: { ...vars }, line });
};

/** `web[01:03].example` -> web01.example, web02.example, web03.example (Ansible's numeric ranges). */
export const expandHostPattern = (pattern: string, line: number): string[] => {
  const match = /^(.*)\[(\d+):(\d+)\](.*)$/.exec(pattern);
  if (!match) return [pattern];
  const [, head = '', from = '', to = '', tail = ''] = match;
  const start = Number(from);
  const end = Number(to);
  if (end < start || end - start > 10_000) throw new InventoryFileError(line, `bad host range [${from}:${to}]`);
  const width = from.length;
  return Array.from({ length: end - start + 1 }, (_, i) => `${head}${String(start + i).padStart(width, '0')}${tail}`).flatMap((h) =>
    expandHostPattern(h, line),
  );
};
