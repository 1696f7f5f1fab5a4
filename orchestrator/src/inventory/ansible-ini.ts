import {
  addGroupHost,
  emptyInventory,
  expandHostPattern,
  groupOf,
  InventoryFileError,
  type AnsibleInventory,
} from './ansible-model.js';

/** `key=value key="quoted value" key='x'` -> a record; anything else is an error on that line. */
const parseVars = (text: string, line: number): Record<string, string> => {
  const vars: Record<string, string> = {};
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/y;
  let rest = text.trim();
  while (rest.length > 0) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m || m[0].trim().length === 0)
      throw new InventoryFileError(line, `expected key=value, found "${rest.split(/\s+/)[0]}"`);
    const raw = m[2] ?? '';
    vars[m[1]!] = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
    rest = rest.slice(m[0].length).trim();
  }
  return vars;
};

/** Parses Ansible's INI inventory format: hosts, `[group]`, `[group:vars]`, `[group:children]`. */
export const parseAnsibleIni = (text: string): AnsibleInventory => {
  const inv = emptyInventory();
  let section: { group: string; kind: 'hosts' | 'vars' | 'children' } = { group: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/^\s*[#;].*$/, '').trim();
    if (!content) return;
    const header = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(content);
    if (content.startsWith('[') && !header) throw new InventoryFileError(line, `malformed section header ${content}`);
    if (header) {
      section = { group: header[1]!.trim(), kind: (header[2] as 'vars' | 'children' | undefined) ?? 'hosts' };
      // Ansible itself frowns on spaces in group names; operators' group names ("CIS servers") have them.
      if (!/^[A-Za-z0-9][A-Za-z0-9 ._'()-]*$/.test(section.group))
        throw new InventoryFileError(line, `bad group name "${section.group}"`);
      groupOf(inv, section.group, line);
      return;
    }
    const group = groupOf(inv, section.group, line);
    if (section.kind === 'vars') {
      const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(content);
      if (!kv) throw new InventoryFileError(line, `expected key=value in [${section.group}:vars]`);
      group.vars[kv[1]!] = kv[2]!.replace(/^(["'])(.*)\1$/, '$2');
    } else if (section.kind === 'children') {
      if (/\s/.test(content))
        throw new InventoryFileError(line, `expected one group name in [${section.group}:children]`);
      group.children.push(content);
    } else {
      const [pattern = '', ...rest] = content.split(/\s+/);
      const vars = parseVars(rest.join(' '), line);
      for (const host of expandHostPattern(pattern, line)) addGroupHost(inv, group, host, vars, line);
    }
  });
  return inv;
};
