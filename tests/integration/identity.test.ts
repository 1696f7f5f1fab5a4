import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKey } from '@opsc/activities/vault';
import { rawPublicKey } from '@opsc/contracts/sealing';
import type { Role } from '@opsc/orchestrator/identity';
import { requestJson } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { createTestStack, type TestStack } from '../support/stack.js';

const plan = {
  name: 'read-only probe',
  steps: [{ id: 'up', name: 'Uptime', action: { method: 'local-command', command: 'uptime' } }],
};

describe('identity: tokens, sessions, roles and tenants on every route', () => {
  let stack: TestStack;
  let api: string;
  const tokens = {} as Record<Role, string>;
  let otherTenantOperator: string;
  let otherTenantAdmin: string;
  let acmeJob: string;

  beforeAll(async () => {
    stack = await createTestStack('identity');
    api = (await stack.startOrchestrator()).apiUrl;
    for (const role of ['viewer', 'operator', 'approver', 'admin'] as const)
      tokens[role] = (await stack.createUser(role)).token;
    otherTenantOperator = (await stack.createUser('operator', { tenant: 'globex' })).token;
    otherTenantAdmin = (await stack.createUser('admin', { tenant: 'globex' })).token;
    // A published vault key, so that credential writes can be sealed (an executor would publish it).
    const { key } = generateMasterKey();
    await stack.pool.query('INSERT INTO vault_keys (key_id, public_key) VALUES ($1, $2)', [
      key.keyId,
      rawPublicKey(key.publicKey).toString('base64'),
    ]);
    const created = await requestJson<{ id: string }>(`${api}/api/jobs`, { body: { plan }, token: tokens.operator });
    expect(created.status).toBe(201);
    acmeJob = created.body.id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers 401 without credentials or with a wrong token', async () => {
    for (const token of [undefined, 'opsc_not-a-real-token']) {
      for (const [method, url] of [
        ['GET', `/api/jobs/${acmeJob}`],
        ['POST', '/api/jobs'],
        ['GET', '/api/auth/me'],
        ['GET', '/api/users'],
      ] as const) {
        const res = await requestJson<{ error: { type: string } }>(`${api}${url}`, {
          method,
          token,
          ...(method === 'POST' && { body: { plan } }),
        });
        expect(res.status, `${method} ${url}`).toBe(401);
        expect(res.body.error.type).toBe('AuthFailed');
      }
    }
    expect((await requestJson(`${api}/api/health`)).status).toBe(200);
  });

  // Each class of route, and the least role it needs.
  const routes: { name: string; minimum: Role; call: (token: string) => Promise<number> }[] = [
    {
      name: 'read a job',
      minimum: 'viewer',
      call: async (t) => (await requestJson(`${api}/api/jobs/${acmeJob}`, { token: t })).status,
    },
    {
      name: 'submit a job',
      minimum: 'operator',
      call: async (t) => (await requestJson(`${api}/api/jobs`, { body: { plan }, token: t })).status,
    },
    {
      name: 'create an own API token',
      minimum: 'viewer',
      call: async (t) => (await requestJson(`${api}/api/tokens`, { body: { name: 'ci' }, token: t })).status,
    },
    {
      name: 'list users',
      minimum: 'admin',
      call: async (t) => (await requestJson(`${api}/api/users`, { token: t })).status,
    },
    {
      name: 'create a user',
      minimum: 'admin',
      call: async (t) =>
        (
          await requestJson(`${api}/api/users`, {
            body: { username: `u-${Math.random().toString(36).slice(2, 8)}`, role: 'viewer' },
            token: t,
          })
        ).status,
    },
  ];
  const unique = () => `n-${Math.random().toString(36).slice(2, 8)}`;
  routes.push(
    {
      name: 'read inventory',
      minimum: 'viewer',
      call: async (t) => (await requestJson(`${api}/api/inventory/targets`, { token: t })).status,
    },
    {
      name: 'resolve targets',
      minimum: 'viewer',
      call: async (t) =>
        (await requestJson(`${api}/api/inventory/resolve`, { body: { tags: ['x'] }, token: t })).status,
    },
    {
      name: 'change inventory',
      minimum: 'admin',
      call: async (t) =>
        (
          await requestJson(`${api}/api/inventory/targets`, {
            body: { name: unique(), address: '127.0.0.2', os: 'linux' },
            token: t,
          })
        ).status,
    },
    {
      name: 'import inventory',
      minimum: 'admin',
      call: async (t) =>
        (await requestJson(`${api}/api/inventory/import`, { body: { format: 'ini', content: '[g]\nh-1\n' }, token: t }))
          .status,
    },
    {
      name: 'read credentials',
      minimum: 'viewer',
      call: async (t) => (await requestJson(`${api}/api/credentials`, { token: t })).status,
    },
    {
      name: 'change credentials',
      minimum: 'admin',
      call: async (t) =>
        (
          await requestJson(`${api}/api/credentials`, {
            body: { name: unique(), secret: { kind: 'password', password: 'pw' } },
            token: t,
          })
        ).status,
    },
    {
      name: 'read the audit log',
      minimum: 'admin',
      call: async (t) => (await requestJson(`${api}/api/audit`, { token: t })).status,
    },
  );
  const ORDER: Role[] = ['viewer', 'operator', 'approver', 'admin'];
  it.each(routes.flatMap((route) => ORDER.map((role) => [route.name, role, route] as const)))(
    '%s as %s',
    async (_name, role, route) => {
      const allowed = ORDER.indexOf(role) >= ORDER.indexOf(route.minimum);
      const status = await route.call(tokens[role]);
      if (allowed) expect(status).toBeLessThan(300);
      else expect(status).toBe(403);
    },
  );

  it('pages through the audit trail with filters, for admins of that tenant only', async () => {
    type Page = { entries: { id: string; action: string; actor: string }[]; next: string | null };
    const first = await requestJson<Page>(`${api}/api/audit?limit=2`, { token: tokens.admin });
    expect(first.status).toBe(200);
    expect(first.body.entries).toHaveLength(2);
    expect(first.body.next).not.toBeNull();
    const second = await requestJson<Page>(`${api}/api/audit?limit=2&before=${first.body.next}`, {
      token: tokens.admin,
    });
    expect(Number(second.body.entries[0]!.id)).toBeLessThan(Number(first.body.entries[1]!.id));
    const submits = await requestJson<Page>(`${api}/api/audit?action=job.submit`, { token: tokens.admin });
    expect(submits.body.entries.length).toBeGreaterThan(0);
    expect(new Set(submits.body.entries.map((e) => e.action))).toEqual(new Set(['job.submit']));
    const bad = await requestJson<{ error: { issues: { path: string }[] } }>(
      `${api}/api/audit?limit=9999&since=yesterday`,
      { token: tokens.admin },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path).sort()).toEqual(['query.limit', 'query.since']);
    for (const role of ['viewer', 'operator', 'approver'] as const) {
      expect((await requestJson(`${api}/api/audit`, { token: tokens[role] })).status).toBe(403);
    }
    const foreign = await requestJson<Page>(`${api}/api/audit`, { token: otherTenantAdmin });
    expect(foreign.body.entries.map((e) => e.actor)).not.toContain('operator');
    expect(foreign.body.entries.every((e) => !e.action.startsWith('job.'))).toBe(true);
  });

  it("answers 404 for another tenant's job, exactly as for a missing one", async () => {
    const foreign = await requestJson<{ error: { message: string } }>(`${api}/api/jobs/${acmeJob}`, {
      token: otherTenantOperator,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toBe(`no job ${acmeJob}`);
  });

  it('signs in with a password into a secure session cookie, and signs out', async () => {
    const created = await requestJson(`${api}/api/users`, {
      body: { username: 'carol', role: 'approver', password: 'correct horse battery' },
      token: tokens.admin,
    });
    expect(created.status).toBe(201);
    const wrong = await requestJson(`${api}/api/auth/login`, {
      body: { tenant: 'acme', username: 'carol', password: 'incorrect horse' },
    });
    expect(wrong.status).toBe(401);

    const res = await fetch(`${api}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', username: 'carol', password: 'correct horse battery' }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^opsc_session=sess_[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    const me = await requestJson<{ user: { username: string; role: string; tenant: string }; via: string }>(
      `${api}/api/auth/me`,
      { headers: { cookie: session } },
    );
    expect(me.body).toMatchObject({ user: { username: 'carol', role: 'approver' }, via: 'session' });
    // The user menu shows the tenant by name.
    const tenant = await stack.pool.query<{ name: string }>(
      'SELECT t.name FROM tenants t JOIN users u ON u.tenant_id = t.id WHERE u.username = $1',
      ['carol'],
    );
    expect(me.body.user.tenant).toBe(tenant.rows[0]!.name);

    // A browser sends its Origin with the cookie; the API's CSRF check wants it on every cookie mutation.
    expect(
      (await requestJson(`${api}/api/auth/logout`, { method: 'POST', headers: { cookie: session, origin: api } }))
        .status,
    ).toBe(204);
    expect((await requestJson(`${api}/api/auth/me`, { headers: { cookie: session } })).status).toBe(401);
  });

  it('creates users with a generated password and resets passwords: admins of the tenant only, sessions ended, never logged', async () => {
    const login = (username: string, password: string) =>
      fetch(`${api}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: 'acme', username, password }),
      });
    const both = await requestJson(`${api}/api/users`, {
      body: { username: 'dana', role: 'approver', password: 'a long enough password', generatePassword: true },
      token: tokens.admin,
    });
    expect(both.status).toBe(400);
    expect(JSON.stringify(both.body)).toContain('generatePassword');
    const created = await requestJson<{ generatedPassword: string }>(`${api}/api/users`, {
      body: { username: 'dana', role: 'approver', generatePassword: true },
      token: tokens.admin,
    });
    expect(created.status).toBe(201);
    const first = created.body.generatedPassword;
    expect(first).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const signedIn = await login('dana', first);
    expect(signedIn.status).toBe(200);
    const session = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;

    for (const [token, status] of [
      [tokens.approver, 403],
      [otherTenantAdmin, 404],
    ] as const)
      expect((await requestJson(`${api}/api/users/dana/password`, { body: {}, token })).status).toBe(status);
    const short = await requestJson(`${api}/api/users/dana/password`, {
      body: { password: 'short' },
      token: tokens.admin,
    });
    expect(short.status).toBe(400);
    expect(JSON.stringify(short.body)).toContain('"path":"password"');

    const reset = await requestJson<{ generatedPassword: string; sessionsEnded: number }>(
      `${api}/api/users/dana/password`,
      { body: {}, token: tokens.admin },
    );
    expect(reset.status).toBe(200);
    expect(reset.body.sessionsEnded).toBe(1);
    const second = reset.body.generatedPassword;
    expect(second).not.toBe(first);
    expect((await requestJson(`${api}/api/auth/me`, { headers: { cookie: session } })).status).toBe(401);
    expect((await login('dana', first)).status).toBe(401);
    expect((await login('dana', second)).status).toBe(200);
    // A password the admin gives is answered with nothing secret.
    const given = await requestJson(`${api}/api/users/dana/password`, {
      body: { password: 'dana chose this one' },
      token: tokens.admin,
    });
    expect(given.body).toEqual({ user: { username: 'dana' }, sessionsEnded: 1 });
    expect((await login('dana', 'dana chose this one')).status).toBe(200);
    const { rows } = await stack.pool.query(
      "SELECT action, details FROM audit_log WHERE object_id = 'dana' AND action LIKE 'user.%' ORDER BY id",
    );
    expect(rows).toEqual([
      { action: 'user.create', details: { role: 'approver', password: 'generated' } },
      { action: 'user.password-reset', details: { generated: true, sessionsEnded: 1 } },
      { action: 'user.password-reset', details: { generated: false, sessionsEnded: 1 } },
    ]);
    const everything = JSON.stringify((await stack.pool.query('SELECT * FROM audit_log')).rows);
    for (const secret of [first, second, 'dana chose this one']) expect(everything).not.toContain(secret);
  });

  it('stores only hashes of passwords, tokens and sessions', async () => {
    const users = await stack.pool.query(`SELECT password_hash FROM users WHERE username = 'carol'`);
    expect(users.rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    const dump =
      JSON.stringify((await stack.pool.query('SELECT * FROM api_tokens')).rows) +
      JSON.stringify((await stack.pool.query('SELECT * FROM sessions')).rows);
    for (const token of Object.values(tokens)) expect(dump).not.toContain(token.slice('opsc_'.length));
    expect(dump).not.toContain('correct horse');
  });

  it('audits sign-ins, user changes and job submissions with who, what and the plan hash', async () => {
    const { rows } = await stack.pool.query(
      `SELECT actor, action, object_id, job_id, plan_hash, source_ip FROM audit_log ORDER BY id`,
    );
    const actions = rows.map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining(['job.submit', 'user.create', 'auth.login_failed', 'auth.login', 'token.create']),
    );
    const submit = rows.find((r) => r.job_id === acmeJob);
    expect(submit).toMatchObject({ action: 'job.submit', object_id: acmeJob });
    expect(submit.plan_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(submit.source_ip).toMatch(/127\.0\.0\.1/);
    expect(JSON.stringify(rows)).not.toContain('correct horse');
  });

  it('bootstraps the first admin from the command line, with no default password', async () => {
    const run = (username: string) =>
      runCli('orchestrator/dist/cli.js', ['create-admin', '--tenant', 'initech', '--username', username], {
        PATH: process.env.PATH,
        DATABASE_URL: stack.roleUrls.orchestrator,
      });
    const first = await run('root-admin');
    expect(first.status, first.stderr).toBe(0);
    const token = /API token \(shown once\): (opsc_\S+)/.exec(first.stdout)?.[1];
    expect(token).toBeDefined();
    const me = await requestJson<{ user: { username: string; role: string } }>(`${api}/api/auth/me`, { token });
    expect(me.body.user).toMatchObject({ username: 'root-admin', role: 'admin' });
    // No password was set, so no one can sign in as this admin with one.
    expect(
      (
        await requestJson(`${api}/api/auth/login`, {
          body: { tenant: 'initech', username: 'root-admin', password: '' },
        })
      ).status,
    ).toBe(400);

    const again = await run('root-admin');
    expect(again.status).toBe(1);
    expect(again.stderr).toBe('username root-admin is taken; nothing was created\n');
    const { rows } = await stack.pool.query(
      `SELECT count(*)::int AS n FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'root-admin'`,
    );
    expect(rows[0].n).toBe(1);
  });
});
