/** An Ansible inventory as parsed, before it becomes targets and groups. */
export interface AnsibleInventory {
  hosts: Map<string, { vars: Record<string, string>; line: number }>;
  groups: Map<string, { hosts: string[]; children: string[]; vars: Record<string, string>; line: number }>;
  /** Host entries of all groups so far, repeats included (see MAX_HOST_ENTRIES). */
  entries: number;
}

/** Hosts one pattern may expand to, all its ranges together (`w[0:9999][0:9999]` is 10^8). */
export const MAX_HOSTS_PER_PATTERN = 10_000;
/** Host entries a whole file may expand to: a megabyte of `w[0:9999]` lines would otherwise fill the heap. */
export const MAX_HOST_ENTRIES = 100_000;

/** A problem in the inventory file, with the line it is on. */
export class InventoryFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export const emptyInventory = (): AnsibleInventory => ({ hosts: new Map(), groups: new Map(), entries: 0 });

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

/** Adds a host to a group (and to the hosts), counting entries against MAX_HOST_ENTRIES. */
export const addGroupHost = (
  inv: AnsibleInventory,
  group: { hosts: string[] },
  name: string,
  vars: Record<string, string>,
  line: number,
): void => {
  inv.entries += 1;
  if (inv.entries > MAX_HOST_ENTRIES)
    throw new InventoryFileError(line, `the file lists more than ${MAX_HOST_ENTRIES.toLocaleString('en')} hosts`);
  addHost(inv, name, vars, line);
  group.hosts.push(name);
};

/** `web[01:03].example` -> web01.example, web02.example, web03.example (Ansible's numeric ranges). */
export const expandHostPattern = (pattern: string, line: number): string[] => {
  let count = 1;
  for (const [, from = '', to = ''] of pattern.matchAll(/\[(\d+):(\d+)\]/g))
    count *= Math.max(1, Number(to) - Number(from) + 1);
  if (count > MAX_HOSTS_PER_PATTERN)
    throw new InventoryFileError(
      line,
      `${pattern.slice(0, 100)} expands to more than ${MAX_HOSTS_PER_PATTERN.toLocaleString('en')} hosts`,
    );
  return expandRanges(pattern, line);
};

const expandRanges = (pattern: string, line: number): string[] => {
  const match = /^(.*)\[(\d+):(\d+)\](.*)$/.exec(pattern);
  if (!match) return [pattern];
  const [, head = '', from = '', to = '', tail = ''] = match;
  const start = Number(from);
  const end = Number(to);
  if (end < start || end - start > 10_000) throw new InventoryFileError(line, `bad host range [${from}:${to}]`);
  const width = from.length;
  return Array.from(
    { length: end - start + 1 },
    (_, i) => `${head}${String(start + i).padStart(width, '0')}${tail}`,
  ).flatMap((h) => expandRanges(h, line));
};
