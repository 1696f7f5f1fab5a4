import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toImportModel, ImportInvalid } from './ansible-import.js';
import { parseAnsibleIni } from './ansible-ini.js';
import { InventoryFileError } from './ansible-model.js';
import { parseAnsibleYaml } from './ansible-yaml.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../../tests/fixtures/${name}`, import.meta.url)), 'utf8');

describe('Ansible INI inventories', () => {
  const model = toImportModel(parseAnsibleIni(fixture('inventory.ini')), {
    defaultCredentials: { ssh: 'fleet-key', winrm: 'cis-admin' },
  });

  it('expands host ranges and reads host variables', () => {
    expect(model.targets.map((t) => t.name)).toEqual([
      'web-01',
      'web-02',
      'web-03',
      'legacy-web',
      'db-01',
      'CIS-SRV-01',
      'CIS-SRV-02',
    ]);
    expect(model.targets.find((t) => t.name === 'legacy-web')).toMatchObject({
      address: '127.0.0.9',
      os: 'linux',
      services: [{ protocol: 'ssh', port: 2222, credential: 'fleet-key' }],
    });
    expect(model.targets.find((t) => t.name === 'web-02')?.address).toBe('web-02');
  });

  it('makes winrm hosts Windows targets from inherited group variables, host variables winning', () => {
    expect(model.targets.find((t) => t.name === 'CIS-SRV-01')).toMatchObject({
      os: 'windows',
      services: [
        {
          protocol: 'winrm',
          scheme: 'https',
          port: 5986,
          transport: 'ntlm',
          verifyCertificate: false,
          credential: 'cis-admin',
        },
      ],
    });
    expect(model.targets.find((t) => t.name === 'CIS-SRV-02')?.services[0]).toMatchObject({
      scheme: 'http',
      port: 5985,
      transport: 'basic',
    });
  });

  it('keeps groups and nested children, dropping the implicit ones', () => {
    const groups = Object.fromEntries(model.groups.map((g) => [g.name, { targets: g.targets, children: g.children }]));
    expect(groups).toEqual({
      web: { targets: ['web-01', 'web-02', 'web-03', 'legacy-web'], children: [] },
      db: { targets: ['db-01'], children: [] },
      cis: { targets: ['CIS-SRV-01', 'CIS-SRV-02'], children: [] },
      linux: { targets: [], children: ['web', 'db'] },
      'Production Web': { targets: [], children: ['web'] },
      datacenter: { targets: [], children: ['linux', 'cis'] },
    });
    expect(model.notes).toContain('ansible_user is not imported: bind credentials with defaultCredentials');
  });

  it.each([
    ['[web\nhost-1', 1, 'line 1: malformed section header [web'],
    ['[web]\nhost-1 ansible_port', 2, 'line 2: expected key=value, found "ansible_port"'],
    ['[web:children]\nweb db', 2, 'line 2: expected one group name in [web:children]'],
    ['[web]\nweb[09:01]', 2, 'line 2: bad host range [09:01]'],
  ])('names the line of a malformed file: %j', (text, _line, message) => {
    expect(() => parseAnsibleIni(text)).toThrow(new InventoryFileError(_line, message.replace(/^line \d+: /, '')));
  });

  it('reports every invalid host with its line, and imports none of them', () => {
    const bad =
      '[web]\nok-1 ansible_host=127.0.0.2\nbad-1 ansible_host=not_a_host!\nbad-2 ansible_port=99999\n[w:vars]\nansible_connection=telnet\n[w]\nw-1';
    try {
      toImportModel(parseAnsibleIni(bad));
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ImportInvalid);
      expect((err as ImportInvalid).issues.map((i) => i.message)).toEqual([
        'line 3 (host bad-1): address: must be a hostname, an IPv4 or an IPv6 address',
        'line 4 (host bad-2): ansible_port "99999" is not a port number',
        'line 8 (host w-1): ansible_connection "telnet" is not supported (ssh, winrm)',
      ]);
    }
  });
});

describe('Ansible YAML inventories', () => {
  it('reads nested children, group vars and ungrouped hosts', () => {
    const model = toImportModel(parseAnsibleYaml(fixture('inventory.yaml')));
    expect(model.targets.map((t) => [t.name, t.os, t.address])).toEqual([
      ['dp-lin-01', 'linux', '127.0.0.30'],
      ['dp-lin-02', 'linux', '127.0.0.31'],
      ['dp-win-01', 'windows', '127.0.0.40'],
      ['jumpbox', 'linux', '127.0.0.50'],
    ]);
    expect(model.targets[1]?.services[0]).toMatchObject({ protocol: 'ssh', port: 2200 });
    expect(model.groups.map((g) => [g.name, g.targets, g.children])).toEqual([
      ['dataprocessing', [], ['dp_linux', 'dp_windows']],
      ['dp_linux', ['dp-lin-01', 'dp-lin-02'], []],
      ['dp_windows', ['dp-win-01'], []],
    ]);
  });

  it('names the line of a structural mistake', () => {
    expect(() => parseAnsibleYaml('all:\n  children:\n    web:\n      hostz:\n        a: {}\n')).toThrow(
      'line 4: unknown key "hostz" in group web',
    );
    expect(() => parseAnsibleYaml('all:\n  hosts:\n    a: [1, 2]\n')).toThrow(/^line 3: host a must be a mapping/);
    expect(() => parseAnsibleYaml('all:\n  hosts: {\n')).toThrow(/^line \d+: /);
  });
});

describe('inventory files that would expand without end', () => {
  it('refuses a host pattern whose ranges multiply past 10,000 hosts, naming its line', () => {
    expect(() => parseAnsibleIni('[web]\nw[0:3000][0:3000]\n')).toThrow(
      'line 2: w[0:3000][0:3000] expands to more than 10,000 hosts',
    );
    expect(() => parseAnsibleYaml('all:\n  hosts:\n    "w[0:3000]-[0:3000]": {}\n')).toThrow(
      /^line 3: .* expands to more than 10,000 hosts/,
    );
    expect(parseAnsibleIni('[web]\nw[00:99][0:99]\n').hosts.size).toBe(10_000);
  });

  it('refuses a file that lists more than 100,000 hosts in all, repeats included', () => {
    expect(() => parseAnsibleIni(`[web]\n${'w[0:9999]\n'.repeat(11)}`)).toThrow(
      'line 12: the file lists more than 100,000 hosts',
    );
  });
});
