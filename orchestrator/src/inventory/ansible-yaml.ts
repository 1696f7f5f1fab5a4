import { isMap, isScalar, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import {
  addGroupHost,
  emptyInventory,
  expandHostPattern,
  groupOf,
  InventoryFileError,
  type AnsibleInventory,
} from './ansible-model.js';

/** Parses Ansible's YAML inventory format (`all: { hosts, vars, children: { group: {...} } }`). */
export const parseAnsibleYaml = (text: string): AnsibleInventory => {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const first = doc.errors[0];
  if (first) throw new InventoryFileError(first.linePos?.[0].line ?? 1, first.message.split('\n')[0] ?? 'invalid YAML');
  const inv = emptyInventory();

  const mapAt = (node: unknown, where: string, line: number): YAMLMap | null => {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return null;
    if (!isMap(node)) throw new InventoryFileError(line, `${where} must be a mapping`);
    return node;
  };
  const scalarVars = (node: unknown, where: string, line: number): Record<string, string> => {
    const map = mapAt(node, where, line);
    const vars: Record<string, string> = {};
    for (const pair of map?.items ?? []) {
      const key = String((pair.key as Node & { value?: unknown })?.toJSON?.() ?? pair.key);
      if (!isScalar(pair.value) && pair.value !== null)
        throw new InventoryFileError(lineOf(pair.value as Node), `${where}.${key} must be a plain value`);
      vars[key] = String((pair.value as { value?: unknown } | null)?.value ?? '');
    }
    return vars;
  };

  const visitGroup = (name: string, node: unknown, line: number): void => {
    const group = groupOf(inv, name, line);
    const map = mapAt(node, `group ${name}`, line);
    for (const pair of map?.items ?? []) {
      const key = String((pair.key as { value?: unknown })?.value);
      const valueLine = lineOf((pair.value ?? pair.key) as Node);
      if (key === 'hosts') {
        for (const hostPair of mapAt(pair.value, `${name}.hosts`, valueLine)?.items ?? []) {
          const hostLine = lineOf(hostPair.key as Node);
          const vars = scalarVars(
            hostPair.value,
            `host ${String((hostPair.key as { value?: unknown }).value)}`,
            hostLine,
          );
          for (const host of expandHostPattern(String((hostPair.key as { value?: unknown }).value), hostLine))
            addGroupHost(inv, group, host, vars, hostLine);
        }
      } else if (key === 'vars') {
        Object.assign(group.vars, scalarVars(pair.value, `${name}.vars`, valueLine));
      } else if (key === 'children') {
        for (const childPair of mapAt(pair.value, `${name}.children`, valueLine)?.items ?? []) {
          const child = String((childPair.key as { value?: unknown }).value);
          group.children.push(child);
          visitGroup(child, childPair.value, lineOf(childPair.key as Node));
        }
      } else {
        throw new InventoryFileError(
          lineOf(pair.key as Node),
          `unknown key "${key}" in group ${name} (expected hosts, vars or children)`,
        );
      }
    }
  };

  const root = mapAt(doc.contents, 'the document', 1);
  for (const pair of root?.items ?? [])
    visitGroup(String((pair.key as { value?: unknown }).value), pair.value, lineOf(pair.key as Node));
  return inv;
};
