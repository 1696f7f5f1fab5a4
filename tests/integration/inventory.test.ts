import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { requestJson } from '../support/api.js';
import { createTestStack, type TestStack } from '../support/stack.js';

interface Resolved {
  count: number;
  byOs: { linux: number; windows: number };
  targets: { name: string; os: string; services: { protocol: string; credentialId: string | null }[] }[];
}

describe('inventory: targets, nested groups and resolution', () => {
  let stack: TestStack;
  let api: string;
  let admin: string;
  let viewer: string;
  let foreignAdmin: string;
  let credentialId: string;

  const call = <T = Record<string, unknown>>(
    path: string,
    init: { method?: string; body?: unknown; token?: string } = {},
  ) => requestJson<T>(`${api}${path}`, { token: admin, ...init });

  beforeAll(async () => {
    stack = await createTestStack('inventory');
    api = (await stack.startOrchestrator()).apiUrl;
    const a = await stack.createUser('admin');
    admin = a.token;
    viewer = (await stack.createUser('viewer')).token;
    foreignAdmin = (await stack.createUser('admin', { tenant: 'globex' })).token;
    credentialId = (
      await stack.pool.query<{ id: string }>(
        `INSERT INTO credentials (tenant_id, name, kind, username, fingerprint) VALUES ($1, 'fleet-key', 'ssh-key', 'ops', 'sealed:0'), ($1, 'cis-admin', 'winrm', 'Administrator', 'sealed:1') RETURNING id`,
        [a.tenantId],
      )
    ).rows[0]!.id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const linux = (name: string, address: string, tags: string[] = []) => ({
    name,
    address,
    os: 'linux',
    tags,
    services: [{ protocol: 'ssh', credential: 'fleet-key' }],
  });
  const windows = (name: string, address: string) => ({
    name,
    address,
    os: 'windows',
    services: [{ protocol: 'winrm', scheme: 'https', transport: 'ntlm', credential: 'cis-admin' }],
  });

  it('creates targets with their protocol endpoints bound to credentials by reference', async () => {
    const created = await call<{ target: Resolved['targets'][number] & { address: string } }>(
      '/api/inventory/targets',
      { body: linux('web-01', '127.0.0.2', ['web', 'prod']) },
    );
    expect(created.status).toBe(201);
    expect(created.body.target).toMatchObject({
      name: 'web-01',
      address: '127.0.0.2',
      os: 'linux',
      services: [{ protocol: 'ssh', port: 22, credential: 'fleet-key', credentialId }],
    });
    for (const [name, address] of [
      ['web-02', '127.0.0.3'],
      ['db-01', 'db-01.internal.example'],
    ] as const) {
      expect(
        (
          await call('/api/inventory/targets', {
            body: linux(name, address, name.startsWith('web') ? ['web'] : ['db']),
          })
        ).status,
      ).toBe(201);
    }
    const win = await call<{ target: { services: { port: number; scheme: string }[] } }>('/api/inventory/targets', {
      body: windows('cis-01', '::1'),
    });
    expect(win.status).toBe(201);
    expect(win.body.target.services[0]).toMatchObject({
      protocol: 'winrm',
      port: 5986,
      scheme: 'https',
      transport: 'ntlm',
      verifyCertificate: true,
    });
  });

  it('answers 4xx naming the field for bad targets, and writes nothing', async () => {
    const before = (await stack.pool.query('SELECT count(*)::int AS n FROM targets')).rows[0].n;
    const cases: [unknown, number, string][] = [
      [{ ...linux('bad-1', 'not a host!') }, 400, 'address'],
      [{ ...linux('bad-2', '999.1.1.1.1') }, 400, 'address'],
      [{ ...linux('bad-3', '127.0.0.9'), os: 'solaris' }, 400, 'os'],
      [
        { ...linux('bad-4', '127.0.0.9'), services: [{ protocol: 'ssh', credential: 'no-such-cred' }] },
        400,
        'services.0.credential',
      ],
      [
        { ...linux('bad-5', '127.0.0.9'), services: [{ protocol: 'ssh' }, { protocol: 'ssh', port: 2222 }] },
        400,
        'services.1.protocol',
      ],
      [{ ...linux('web-01', '127.0.0.9') }, 409, 'name'],
      [{ ...linux('bad; rm', '127.0.0.9') }, 400, 'name'],
    ];
    for (const [body, status, path] of cases) {
      const res = await call<{ error: { issues?: { path: string }[] } }>('/api/inventory/targets', { body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.issues?.map((i) => i.path)).toContain(path);
    }
    const huge = await fetch(`${api}/api/inventory/targets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...linux('big', '127.0.0.9'), tags: ['x'.repeat(2_000_000)] }),
    });
    expect(huge.status).toBe(413);
    expect((await stack.pool.query('SELECT count(*)::int AS n FROM targets')).rows[0].n).toBe(before);
  });

  it('resolves nested groups once per target, filtered by OS and tags', async () => {
    expect(
      (await call('/api/inventory/groups', { body: { name: 'dp-linux', targets: ['web-01', 'db-01'] } })).status,
    ).toBe(201);
    expect((await call('/api/inventory/groups', { body: { name: 'dp-windows', targets: ['cis-01'] } })).status).toBe(
      201,
    );
    expect(
      (
        await call('/api/inventory/groups', {
          body: { name: 'Data Processing', targets: ['web-01'], children: ['dp-linux', 'dp-windows'] },
        })
      ).status,
    ).toBe(201);
    expect(
      (await call('/api/inventory/groups', { body: { name: 'everything', children: ['Data Processing'] } })).status,
    ).toBe(201);

    const all = await call<Resolved>('/api/inventory/resolve', { body: { group: 'everything' } });
    expect(all.body.targets.map((t) => t.name)).toEqual(['cis-01', 'db-01', 'web-01']);
    expect(all.body.byOs).toEqual({ linux: 2, windows: 1 });
    const win = await call<Resolved>('/api/inventory/resolve', { body: { group: 'Data Processing', os: 'windows' } });
    expect(win.body.targets.map((t) => t.name)).toEqual(['cis-01']);
    expect(win.body.targets[0]?.services[0]?.credentialId).toMatch(/^[0-9a-f-]{36}$/);
    const tagged = await call<Resolved>('/api/inventory/resolve', { body: { tags: ['web'] } });
    expect(tagged.body.targets.map((t) => t.name)).toEqual(['web-01', 'web-02']);
    const named = await call<Resolved>('/api/inventory/resolve', {
      body: { group: 'dp-windows', targets: ['web-02'] },
    });
    expect(named.body.targets.map((t) => t.name)).toEqual(['cis-01', 'web-02']);

    const unknown = await call<{ error: { issues: { path: string }[] } }>('/api/inventory/resolve', {
      body: { group: 'No Such Group' },
    });
    expect(unknown.status).toBe(404);
    const typo = await call<{ error: { issues: { path: string }[] } }>('/api/inventory/resolve', {
      body: { targets: ['web-01', 'web-99'] },
    });
    expect(typo.status).toBe(404);
    expect(typo.body.error.issues.map((i) => i.path)).toEqual(['targets.1']);
    expect((await call('/api/inventory/resolve', { body: {} })).status).toBe(400);
  });

  it('refuses a group cycle and leaves the groups as they were', async () => {
    const before = await call<{ groups: unknown[] }>('/api/inventory/groups');
    const cycle = await call<{ error: { issues: { path: string; message: string }[] } }>(
      '/api/inventory/groups/dp-linux',
      {
        method: 'PUT',
        body: { name: 'dp-linux', targets: ['db-01'], children: ['everything'] },
      },
    );
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.issues).toEqual([
      { path: 'children.0', message: '"everything" contains "dp-linux"; a group cannot contain itself' },
    ]);
    const self = await call('/api/inventory/groups/dp-linux', {
      method: 'PUT',
      body: { name: 'dp-linux', children: ['dp-linux'] },
    });
    expect(self.status).toBe(400);
    expect((await call<{ groups: unknown[] }>('/api/inventory/groups')).body).toEqual(before.body);
    const unknownMember = await call<{ error: { issues: { path: string }[] } }>('/api/inventory/groups', {
      body: { name: 'half', targets: ['web-01', 'ghost'] },
    });
    expect(unknownMember.body.error.issues.map((i) => i.path)).toEqual(['targets.1']);
    expect(
      (await call<{ groups: { name: string }[] }>('/api/inventory/groups')).body.groups.map((g) => g.name),
    ).not.toContain('half');
  });

  it('lets viewers read but not write, and keeps tenants apart', async () => {
    expect((await call('/api/inventory/targets', { token: viewer })).status).toBe(200);
    expect((await call('/api/inventory/targets', { token: viewer, body: linux('v-1', '127.0.0.9') })).status).toBe(403);
    expect((await call('/api/inventory/targets/web-01', { token: viewer, method: 'DELETE' })).status).toBe(403);
    expect(
      (await call<{ targets: unknown[] }>('/api/inventory/targets', { token: foreignAdmin })).body.targets,
    ).toEqual([]);
    expect((await call('/api/inventory/resolve', { token: foreignAdmin, body: { group: 'everything' } })).status).toBe(
      404,
    );
    expect((await call('/api/inventory/targets/web-01', { token: foreignAdmin, method: 'DELETE' })).status).toBe(404);
  });

  it('refuses to delete a credential still bound to a target, and audits inventory changes', async () => {
    await expect(stack.pool.query(`DELETE FROM credentials WHERE name = 'fleet-key'`)).rejects.toThrow(
      /violates foreign key/,
    );
    expect((await call('/api/inventory/targets/web-02', { method: 'DELETE' })).status).toBe(204);
    const { rows } = await stack.pool.query(
      `SELECT action, object_id FROM audit_log WHERE action LIKE 'inventory.%' ORDER BY id`,
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { action: 'inventory.target.create', object_id: 'web-01' },
        { action: 'inventory.group.create', object_id: 'Data Processing' },
        { action: 'inventory.target.delete', object_id: 'web-02' },
      ]),
    );
  });

  describe('Ansible import', () => {
    const fixture = (name: string) => readFileSync(path.join(REPO_ROOT, 'tests', 'fixtures', name), 'utf8');
    type ImportAnswer = {
      dryRun: boolean;
      applied: boolean;
      diff: {
        targets: { create: string[]; update: { name: string; fields: string[] }[]; unchanged: number };
        groups: { create: string[]; update: unknown[]; unchanged: number };
      };
      notes: string[];
      error?: { issues: { path: string; message: string }[] };
    };
    const importFile = (body: Record<string, unknown>, token = admin) =>
      call<ImportAnswer>('/api/inventory/import', { token, body });

    it('shows a dry-run diff first and writes nothing', async () => {
      const before = await stack.pool.query('SELECT count(*)::int AS n FROM targets');
      const res = await importFile({
        format: 'ini',
        content: fixture('inventory.ini'),
        defaultCredentials: { ssh: 'fleet-key', winrm: 'cis-admin' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ dryRun: true, applied: false });
      // web-01 exists (from the tests above) with another address and credential binding: an update.
      expect(res.body.diff.targets.create).toEqual(['web-02', 'web-03', 'legacy-web', 'CIS-SRV-01', 'CIS-SRV-02']);
      expect(res.body.diff.targets.update).toEqual([
        { name: 'web-01', fields: ['address'] },
        { name: 'db-01', fields: ['address'] },
      ]);
      expect(res.body.diff.groups.create).toEqual(['web', 'db', 'cis', 'linux', 'Production Web', 'datacenter']);
      expect((await stack.pool.query('SELECT count(*)::int AS n FROM targets')).rows[0].n).toBe(before.rows[0].n);
    });

    it('imports INI and YAML inventories in one transaction each, and a second run changes nothing', async () => {
      const ini = await importFile({
        format: 'ini',
        content: fixture('inventory.ini'),
        dryRun: false,
        defaultCredentials: { ssh: 'fleet-key', winrm: 'cis-admin' },
      });
      expect(ini.body.applied).toBe(true);
      const yaml = await importFile({
        format: 'yaml',
        content: fixture('inventory.yaml'),
        dryRun: false,
        defaultCredentials: { ssh: 'fleet-key', winrm: 'cis-admin' },
      });
      expect(yaml.body.diff.targets.create).toEqual(['dp-lin-01', 'dp-lin-02', 'dp-win-01', 'jumpbox']);

      const dc = await call<Resolved>('/api/inventory/resolve', { body: { group: 'datacenter' } });
      expect(dc.body.byOs).toEqual({ linux: 5, windows: 2 });
      const web = await call<Resolved>('/api/inventory/resolve', { body: { group: 'Production Web' } });
      expect(web.body.targets.map((t) => t.name)).toEqual(['legacy-web', 'web-01', 'web-02', 'web-03']);
      const dp = await call<Resolved>('/api/inventory/resolve', { body: { group: 'dataprocessing' } });
      expect(dp.body.byOs).toEqual({ linux: 2, windows: 1 });
      expect(dp.body.targets.find((t) => t.name === 'dp-win-01')?.services[0]).toMatchObject({
        protocol: 'winrm',
        scheme: 'https',
        credentialId: expect.any(String),
      });

      const again = await importFile({
        format: 'ini',
        content: fixture('inventory.ini'),
        defaultCredentials: { ssh: 'fleet-key', winrm: 'cis-admin' },
      });
      expect(again.body.diff.targets).toEqual({ create: [], update: [], unchanged: 7 });
      expect(again.body.diff.groups).toEqual({ create: [], update: [], unchanged: 6 });
      const audit = await stack.pool.query(
        `SELECT details FROM audit_log WHERE action = 'inventory.import' ORDER BY id`,
      );
      expect(audit.rows[0].details).toMatchObject({ targetsCreated: 5, groupsCreated: 6 });
    });

    it('refuses a malformed file with its line number, and an invalid host without writing any', async () => {
      const before = (await stack.pool.query('SELECT count(*)::int AS n FROM targets')).rows[0].n;
      const malformed = await importFile({
        format: 'ini',
        content: '[web]\nnew-1 ansible_host=127.0.0.60\n[broken\n',
        dryRun: false,
      });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error?.issues).toEqual([
        { path: 'content', message: 'line 3: malformed section header [broken' },
      ]);
      const invalid = await importFile({
        format: 'yaml',
        content: 'all:\n  hosts:\n    new-2: { ansible_host: 127.0.0.61 }\n    new-3: { ansible_host: "bad host" }\n',
        dryRun: false,
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error?.issues[0]?.message).toMatch(/^line 4 \(host new-3\): address/);
      const cycle = await importFile({ format: 'ini', content: '[a:children]\nb\n[b:children]\na\n', dryRun: false });
      expect(cycle.status).toBe(400);
      const unknownCred = await importFile({
        format: 'ini',
        content: '[x]\nnew-4\n',
        defaultCredentials: { ssh: 'nope' },
      });
      expect(unknownCred.body.error?.issues).toEqual([
        { path: 'defaultCredentials.ssh', message: 'no credential named "nope"' },
      ]);
      expect((await stack.pool.query('SELECT count(*)::int AS n FROM targets')).rows[0].n).toBe(before);
      expect(
        (await stack.pool.query(`SELECT count(*)::int AS n FROM target_groups WHERE name IN ('a', 'b')`)).rows[0].n,
      ).toBe(0);
      expect((await importFile({ format: 'ini', content: '[x]\nnew-5\n' }, viewer)).status).toBe(403);
    });
  });
});
