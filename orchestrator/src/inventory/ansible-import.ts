import { GroupInput, TargetInput, type FieldIssue, type TargetService } from '@opsc/contracts';
import type { AnsibleInventory } from './ansible-model.js';

export interface ImportOptions {
  /** Credentials (by name) bound to the imported services; Ansible files carry no usable secrets. */
  defaultCredentials?: { ssh?: string; winrm?: string };
}

export interface ImportModel {
  targets: TargetInput[];
  groups: GroupInput[];
  /** Things in the file that were not imported, worth telling the operator. */
  notes: string[];
}

const SPECIAL_GROUPS = new Set(['all', 'ungrouped']);

/** Group variables apply from the outermost group inwards, then the host's own win. */
const effectiveVars = (inv: AnsibleInventory, host: string): Record<string, string> => {
  const parents = new Map<string, string[]>();
  for (const [name, group] of inv.groups)
    for (const child of group.children) parents.set(child, [...(parents.get(child) ?? []), name]);
  const depth = (group: string, seen = new Set<string>()): number => {
    if (seen.has(group)) return 0;
    seen.add(group);
    return 1 + Math.max(0, ...(parents.get(group) ?? []).map((p) => depth(p, seen)));
  };
  const mine = new Set<string>();
  const climb = (group: string) => {
    if (mine.has(group)) return;
    mine.add(group);
    for (const p of parents.get(group) ?? []) climb(p);
  };
  for (const [name, group] of inv.groups) if (group.hosts.includes(host)) climb(name);
  if (inv.groups.has('all')) mine.add('all');
  const ordered = [...mine].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : depth(a) - depth(b)));
  return Object.assign(
    {},
    ...ordered.map((g) => inv.groups.get(g)?.vars ?? {}),
    inv.hosts.get(host)?.vars ?? {},
  ) as Record<string, string>;
};

const TRANSPORTS = new Set(['ntlm', 'basic', 'kerberos', 'certificate']);

const serviceFor = (
  host: string,
  vars: Record<string, string>,
  line: number,
  options: ImportOptions,
  issues: FieldIssue[],
): { os: 'linux' | 'windows'; service: TargetService } => {
  const connection = vars.ansible_connection ?? 'ssh';
  const port = vars.ansible_port ?? vars.ansible_ssh_port;
  const asNumber = Number(port);
  const valid = Number.isInteger(asNumber) && asNumber >= 1 && asNumber <= 65_535;
  if (port !== undefined && !valid)
    issues.push({
      path: 'content',
      message: `line ${line} (host ${host}): ansible_port "${port}" is not a port number`,
    });
  const portNumber = port !== undefined && valid ? asNumber : undefined;
  if (connection === 'winrm' || connection === 'psrp') {
    const transport = (vars.ansible_winrm_transport ?? 'ntlm').split(',')[0]!.trim();
    if (!TRANSPORTS.has(transport))
      issues.push({
        path: 'content',
        message: `line ${line} (host ${host}): WinRM transport "${transport}" is not supported (ntlm, basic, kerberos, certificate)`,
      });
    const scheme = vars.ansible_winrm_scheme ?? (portNumber === 5985 ? 'http' : 'https');
    if (scheme !== 'http' && scheme !== 'https')
      issues.push({
        path: 'content',
        message: `line ${line} (host ${host}): ansible_winrm_scheme must be http or https`,
      });
    return {
      os: 'windows',
      service: {
        protocol: 'winrm',
        scheme: scheme === 'http' ? 'http' : 'https',
        port: portNumber ?? (scheme === 'http' ? 5985 : 5986),
        transport: (TRANSPORTS.has(transport) ? transport : 'ntlm') as 'ntlm',
        verifyCertificate: vars.ansible_winrm_server_cert_validation !== 'ignore',
        ...(options.defaultCredentials?.winrm && { credential: options.defaultCredentials.winrm }),
      },
    };
  }
  if (connection !== 'ssh' && connection !== 'paramiko' && connection !== 'smart') {
    issues.push({
      path: 'content',
      message: `line ${line} (host ${host}): ansible_connection "${connection}" is not supported (ssh, winrm)`,
    });
  }
  return {
    os: 'linux',
    service: {
      protocol: 'ssh',
      port: portNumber ?? 22,
      ...(options.defaultCredentials?.ssh && { credential: options.defaultCredentials.ssh }),
    },
  };
};

/** Maps a parsed inventory onto targets and groups, validating each; all problems are reported at once. */
export const toImportModel = (inv: AnsibleInventory, options: ImportOptions = {}): ImportModel => {
  const issues: FieldIssue[] = [];
  const notes = new Set<string>();
  const targets: TargetInput[] = [];
  for (const [name, host] of inv.hosts) {
    const vars = effectiveVars(inv, name);
    const { os, service } = serviceFor(name, vars, host.line, options, issues);
    if (vars.ansible_user) notes.add('ansible_user is not imported: bind credentials with defaultCredentials');
    if (vars.ansible_password || vars.ansible_ssh_pass || vars.ansible_become_password)
      notes.add('passwords in the file were ignored: store them as credentials');
    const parsed = TargetInput.safeParse({ name, address: vars.ansible_host ?? name, os, services: [service] });
    if (parsed.success) targets.push(parsed.data);
    else
      for (const issue of parsed.error.issues)
        issues.push({
          path: 'content',
          message: `line ${host.line} (host ${name}): ${issue.path.join('.')}: ${issue.message}`,
        });
  }
  const groups: GroupInput[] = [];
  for (const [name, group] of inv.groups) {
    if (SPECIAL_GROUPS.has(name)) continue;
    const parsed = GroupInput.safeParse({
      name,
      targets: [...new Set(group.hosts)],
      children: [...new Set(group.children)].filter((c) => !SPECIAL_GROUPS.has(c)),
    });
    if (parsed.success) groups.push(parsed.data);
    else
      for (const issue of parsed.error.issues)
        issues.push({
          path: 'content',
          message: `line ${group.line} (group ${name}): ${issue.path.join('.')}: ${issue.message}`,
        });
  }
  if (issues.length) throw new ImportInvalid(issues);
  return { targets, groups, notes: [...notes] };
};

export class ImportInvalid extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super('the inventory file is invalid');
  }
}
