import type { AuditEntry, TokenView } from '@opsc/contracts';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_DIR, migrate } from '@opsc/database';
import { requestJson } from '../support/api.js';
import { runCli } from '../support/cli.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { until } from '../support/web.js';

// Issue 15, identity: each attack the attacker ran, as a test. Sign-ins name a source with
// X-Forwarded-For (the API trusts it from loopback only), documentation-range addresses that no
// packet is ever sent to, so that each test is a source of its own.
const PASSWORD = 'the right password 1';
const LOCKOUT = { threshold: 5, seconds: 2, maxSeconds: 8 };
const SOURCE_MAX_FAILURES = 10;
const ENV = {
  SIGN_IN_LOCKOUT_THRESHOLD: String(LOCKOUT.threshold),
  SIGN_IN_LOCKOUT_SECONDS: String(LOCKOUT.seconds),
  SIGN_IN_LOCKOUT_MAX_SECONDS: String(LOCKOUT.maxSeconds),
  SIGN_IN_SOURCE_MAX_FAILURES: String(SOURCE_MAX_FAILURES),
  SIGN_IN_SOURCE_WINDOW_SECONDS: '600',
  SIGN_IN_MAX_CONCURRENT_HASHES: '4',
  API_TOKEN_DEFAULT_DAYS: '30',
};

interface SignIn {
  status: number;
  body: { error?: { type: string; message: string }; user?: { username: string; role: string } };
  cookie: string | undefined;
  retryAfter: number | undefined;
  ms: number;
}

describe('identity: no path around sign-in, tokens and user lifecycle', () => {
  let stack: TestStack;
  let api: string;
  let admin: string;
  let foreignAdmin: string;

  const signIn = async (
    tenant: string,
    username: string,
    password: string,
    source: string,
    base = api,
  ): Promise<SignIn> => {
    const started = Date.now();
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': source },
      body: JSON.stringify({ tenant, username, password }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await res.json()) as SignIn['body'];
    const retryAfter = res.headers.get('retry-after');
    return {
      status: res.status,
      body,
      cookie: res.headers.get('set-cookie')?.split(';')[0],
      retryAfter: retryAfter === null ? undefined : Number(retryAfter),
      ms: Date.now() - started,
    };
  };
  const userWithPassword = async (
    username: string,
    role: 'viewer' | 'operator' | 'approver' | 'admin' = 'operator',
    tenant = 'acme',
  ) => stack.createUser(role, { tenant, username, password: PASSWORD });
  const audit = async (token: string, query: string) =>
    (await requestJson<{ entries: AuditEntry[] }>(`${api}/api/audit?${query}`, { token })).body.entries;
  const me = async (auth: { token?: string; cookie?: string }) =>
    (
      await requestJson(`${api}/api/auth/me`, {
        ...(auth.token && { token: auth.token }),
        ...(auth.cookie && { headers: { cookie: auth.cookie } }),
      })
    ).status;

  beforeAll(async () => {
    stack = await createTestStack('security-identity');
    api = (await stack.startOrchestrator(ENV)).apiUrl;
    admin = (await stack.createUser('admin', { tenant: 'acme', username: 'ada-admin' })).token;
    foreignAdmin = (await stack.createUser('admin', { tenant: 'globex', username: 'gus-admin' })).token;
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('locks an account after repeated failures, refuses even the right password while locked, backs off, and holds across processes', async () => {
    await userWithPassword('bruce');
    // A second orchestrator on the same database, started first: the lock is short.
    const second = await stack.startOrchestrator(ENV);
    // A distributed guesser: every attempt from another address, so only the account's lockout stands in the way.
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++)
      statuses.push((await signIn('acme', 'bruce', `guess number ${i}`, `203.0.113.${i + 1}`)).status);
    const guessed = statuses.filter((s) => s === 401).length;
    expect(statuses.slice(0, LOCKOUT.threshold)).toEqual(Array(LOCKOUT.threshold).fill(401));
    // Only a lock that expired during the run lets another guess through (one more, with a lock twice as long).
    expect(guessed).toBeLessThanOrEqual(LOCKOUT.threshold + 2);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);

    const right = await signIn('acme', 'bruce', PASSWORD, '203.0.113.100');
    expect(right.status).toBe(429);
    expect(right.body.error).toMatchObject({ type: 'RateLimited' });
    expect(right.body.error?.message).toMatch(/locked after repeated failed sign-ins; try again in \d+ s/);
    expect(right.retryAfter).toBeGreaterThanOrEqual(1);
    expect(right.retryAfter).toBeLessThanOrEqual(LOCKOUT.maxSeconds);
    expect(right.cookie).toBeUndefined();

    // The lock is in PostgreSQL: another orchestrator process refuses the right password too.
    expect((await signIn('acme', 'bruce', PASSWORD, '203.0.113.101', second.apiUrl)).status).toBe(429);
    await second.service.stop(5_000);

    // Once the lock has passed, one more wrong guess locks it again, for longer. (Each poll comes
    // from an address of its own: a refusal while locked is a failure for its source too.)
    let poll = 0;
    const poller = () => `192.0.2.${++poll}`;
    await until(
      async () => ((await signIn('acme', 'bruce', 'one more guess', poller())).status === 401 ? true : undefined),
      'the first lock to pass',
      20_000,
      250,
    );
    const relocked = await signIn('acme', 'bruce', PASSWORD, '203.0.113.103');
    expect(relocked.status).toBe(429);
    expect(relocked.retryAfter).toBeGreaterThan(LOCKOUT.seconds);

    // And after that, the right password works and the count starts again.
    const ok = await until(
      async () => ((r) => (r.status === 200 ? r : undefined))(await signIn('acme', 'bruce', PASSWORD, poller())),
      'the second lock to pass',
      20_000,
      250,
    );
    expect(ok.cookie).toMatch(/^opsc_session=/);
    expect((await signIn('acme', 'bruce', 'a fresh mistake', '203.0.113.105')).status).toBe(401);
    expect((await signIn('acme', 'bruce', PASSWORD, '203.0.113.106')).status).toBe(200);

    const entries = await audit(admin, 'action=auth.&actor=bruce&limit=500');
    expect(entries.filter((e) => e.action === 'auth.login_failed').length).toBe(guessed + 2);
    expect(entries.some((e) => e.action === 'auth.login_locked')).toBe(true);
  }, 90_000);

  it('refuses a flood from one source fast, without delaying another source', async () => {
    await userWithPassword('fiona');
    const flood = Promise.all(
      Array.from({ length: 40 }, (_, i) => signIn('acme', `nobody-${i}`, 'not a password', '203.0.113.200')),
    );
    const legit = await signIn('acme', 'fiona', PASSWORD, '198.51.100.9');
    const answers = await flood;
    expect(legit.status).toBe(200);
    // Before, every request of the flood was hashed in turn in front of fiona's (about 9 s here).
    expect(legit.ms).toBeLessThan(5_000);
    const hashed = answers.filter((a) => a.status === 401).length;
    const refused = answers.filter((a) => a.status === 429);
    expect(hashed).toBeLessThanOrEqual(SOURCE_MAX_FAILURES);
    expect(hashed + refused.length).toBe(answers.length);
    for (const r of refused) {
      expect(r.retryAfter).toBeGreaterThanOrEqual(1);
      expect(r.body.error?.type).toBe('RateLimited');
    }
    // The source keeps failing until its budget is spent; from then on it is refused before any hashing.
    const more = await until(
      async () =>
        ((r) =>
          r.status === 429 && /too many failed sign-ins from your address/.test(r.body.error?.message ?? '')
            ? r
            : undefined)(await signIn('acme', 'nobody', 'x', '203.0.113.200')),
      'the source to be refused',
      30_000,
      0,
    );
    expect(more.retryAfter).toBeGreaterThanOrEqual(1);
    // ... even with the right password of a real account; another source is not affected.
    expect((await signIn('acme', 'fiona', PASSWORD, '203.0.113.200')).status).toBe(429);
    expect((await signIn('acme', 'fiona', PASSWORD, '198.51.100.9')).status).toBe(200);
  }, 90_000);

  it("audits failed sign-ins to the tenant of the user they name, for that tenant's admins only, without the password", async () => {
    await userWithPassword('wanda');
    const typo = 'Wanda-typed-this-password';
    expect((await signIn('acme', 'wanda', typo, '203.0.113.150')).status).toBe(401);
    expect((await signIn('acme', 'no-such-user', typo, '203.0.113.150')).status).toBe(401);
    const entries = await audit(admin, 'action=auth.login_failed');
    const wanda = entries.find((e) => e.actor === 'wanda');
    expect(wanda).toMatchObject({
      action: 'auth.login_failed',
      sourceIp: '203.0.113.150',
      objectType: 'user',
      objectId: 'wanda',
      details: { reason: 'wrong password' },
    });
    expect(entries.find((e) => e.actor === 'no-such-user')).toMatchObject({ details: { reason: 'no such user' } });
    expect(JSON.stringify(entries)).not.toContain(typo);
    const { rows } = await stack.pool.query(`SELECT * FROM audit_log`);
    expect(JSON.stringify(rows)).not.toContain(typo);
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    expect((await audit(foreignAdmin, 'action=auth.login_failed')).map((e) => e.actor)).not.toContain('wanda');
  });

  it('lists and revokes tokens: your own, and (admins) those of a user of the tenant; a revoked token is refused at once', async () => {
    const { username, token: first } = await stack.createUser('operator', { tenant: 'acme', username: 'tom-tokens' });
    const created = await requestJson<{ id: string; token: string; name: string; prefix: string; expiresAt: string }>(
      `${api}/api/tokens`,
      { body: { name: 'laptop' }, token: first },
    );
    expect(created.status).toBe(201);
    const second = created.body.token;
    expect(created.body.prefix).toBe(second.slice(0, 12));
    expect(await me({ token: second })).toBe(200);

    const mine = await requestJson<{ tokens: TokenView[] }>(`${api}/api/tokens`, { token: second });
    expect(mine.status).toBe(200);
    expect(mine.body.tokens.map((t) => t.name).sort()).toEqual(['laptop', 'test']);
    const laptop = mine.body.tokens.find((t) => t.name === 'laptop')!;
    expect(laptop).toMatchObject({ id: created.body.id, prefix: created.body.prefix, revokedAt: null });
    expect(laptop.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(mine.body)).not.toContain(second.slice(12));

    expect((await requestJson(`${api}/api/tokens/${laptop.id}`, { method: 'DELETE', token: first })).status).toBe(204);
    expect(await me({ token: second })).toBe(401);
    expect(await me({ token: first })).toBe(200);
    const after = await requestJson<{ tokens: TokenView[] }>(`${api}/api/tokens`, { token: first });
    expect(after.body.tokens.find((t) => t.id === laptop.id)?.revokedAt).not.toBeNull();
    // Someone else's token is not yours to revoke, and not yours to see.
    const other = await stack.createUser('operator', { tenant: 'acme', username: 'otto-other' });
    const otherTokens = await requestJson<{ tokens: TokenView[] }>(`${api}/api/tokens`, { token: other.token });
    expect(
      (await requestJson(`${api}/api/tokens/${otherTokens.body.tokens[0]!.id}`, { method: 'DELETE', token: first }))
        .status,
    ).toBe(404);
    expect((await requestJson(`${api}/api/tokens/not-an-id`, { method: 'DELETE', token: first })).status).toBe(404);

    // An admin of the tenant sees and revokes a user's tokens.
    const listed = await requestJson<{ tokens: TokenView[] }>(`${api}/api/users/${username}/tokens`, { token: admin });
    expect(listed.status).toBe(200);
    const remaining = listed.body.tokens.find((t) => t.revokedAt === null)!;
    expect(
      (await requestJson(`${api}/api/users/${username}/tokens/${remaining.id}`, { method: 'DELETE', token: admin }))
        .status,
    ).toBe(204);
    expect(await me({ token: first })).toBe(401);
    const revokes = await audit(admin, 'action=token.revoke');
    expect(revokes.map((e) => [e.actor, e.objectId])).toEqual(
      expect.arrayContaining([
        [username, laptop.id],
        ['ada-admin', remaining.id],
      ]),
    );
    expect(JSON.stringify(revokes)).not.toContain('opsc_');
  });

  it('disables a user: their sessions and tokens stop at once, sign-in is refused; enabling brings back their tokens, not their sessions', async () => {
    const dora = await userWithPassword('dora');
    const session = await signIn('acme', 'dora', PASSWORD, '203.0.113.160');
    expect(session.status).toBe(200);
    expect(await me({ cookie: session.cookie! })).toBe(200);
    const disabled = await requestJson<{ user: { username: string; disabled: boolean } }>(`${api}/api/users/dora`, {
      method: 'PATCH',
      body: { disabled: true },
      token: admin,
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.user).toMatchObject({ username: 'dora', disabled: true });
    expect(await me({ cookie: session.cookie! })).toBe(401);
    expect(await me({ token: dora.token })).toBe(401);
    const refused = await signIn('acme', 'dora', PASSWORD, '203.0.113.160');
    expect(refused.status).toBe(401);
    expect(refused.body.error?.message).toBe('wrong tenant, username or password');

    expect(
      (await requestJson(`${api}/api/users/dora`, { method: 'PATCH', body: { disabled: false }, token: admin })).status,
    ).toBe(200);
    expect(await me({ token: dora.token })).toBe(200);
    expect(await me({ cookie: session.cookie! })).toBe(401);
    expect((await signIn('acme', 'dora', PASSWORD, '203.0.113.160')).status).toBe(200);
    const entries = await audit(admin, 'objectType=user&objectId=dora');
    expect(entries.map((e) => [e.actor, e.action])).toEqual(
      expect.arrayContaining([
        ['ada-admin', 'user.disable'],
        ['ada-admin', 'user.enable'],
      ]),
    );
    expect(entries.find((e) => e.action === 'auth.login_failed')?.details).toMatchObject({ reason: 'disabled' });
  });

  it('changes a role, and the new role holds from the next request on', async () => {
    const ann = await stack.createUser('admin', { tenant: 'acme', username: 'ann-admin' });
    expect((await requestJson(`${api}/api/users`, { token: ann.token })).status).toBe(200);
    const changed = await requestJson<{ user: { role: string } }>(`${api}/api/users/ann-admin`, {
      method: 'PATCH',
      body: { role: 'viewer' },
      token: admin,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.user.role).toBe('viewer');
    expect((await requestJson(`${api}/api/users`, { token: ann.token })).status).toBe(403);
    expect(
      (await requestJson(`${api}/api/users`, { body: { username: 'sneaky', role: 'admin' }, token: ann.token })).status,
    ).toBe(403);
    const entry = (await audit(admin, 'action=user.role&objectId=ann-admin'))[0];
    expect(entry).toMatchObject({ actor: 'ada-admin', details: { from: 'admin', to: 'viewer' } });
    const bad = await requestJson<{ error: { issues: { path: string }[] } }>(`${api}/api/users/ann-admin`, {
      method: 'PATCH',
      body: { role: 'root' },
      token: admin,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toEqual(['role']);
  });

  it('deletes a user: sessions and tokens end at once and the name is free again', async () => {
    const dan = await userWithPassword('dan');
    const session = await signIn('acme', 'dan', PASSWORD, '203.0.113.170');
    expect((await requestJson(`${api}/api/users/dan`, { method: 'DELETE', token: admin })).status).toBe(204);
    expect(await me({ token: dan.token })).toBe(401);
    expect(await me({ cookie: session.cookie! })).toBe(401);
    expect((await requestJson(`${api}/api/users/dan`, { method: 'DELETE', token: admin })).status).toBe(404);
    expect(
      (await requestJson(`${api}/api/users`, { body: { username: 'dan', role: 'viewer' }, token: admin })).status,
    ).toBe(201);
    expect((await audit(admin, 'action=user.delete&objectId=dan'))[0]).toMatchObject({
      actor: 'ada-admin',
      objectType: 'user',
    });
  });

  it('never leaves a tenant without an enabled admin', async () => {
    const solo = await stack.createUser('admin', { tenant: 'solo', username: 'sole-admin' });
    for (const [method, body] of [
      ['PATCH', { role: 'operator' }],
      ['PATCH', { disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const res = await requestJson<{ error: { type: string; message: string } }>(`${api}/api/users/sole-admin`, {
        method,
        ...(body && { body }),
        token: solo.token,
      });
      expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(409);
      expect(res.body.error.message).toBe(
        'sole-admin is the last enabled admin of the tenant; make another user admin first',
      );
    }
    expect(await me({ token: solo.token })).toBe(200);
    // With a second admin, the first may step down.
    await stack.createUser('admin', { tenant: 'solo', username: 'next-admin' });
    expect(
      (
        await requestJson(`${api}/api/users/sole-admin`, {
          method: 'PATCH',
          body: { role: 'operator' },
          token: solo.token,
        })
      ).status,
    ).toBe(200);
  });

  it('gives tokens created without an expiry one (configurable), and refuses an expired token', async () => {
    const created = await requestJson<{ id: string; token: string; expiresAt: string }>(`${api}/api/tokens`, {
      body: { name: 'no expiry asked' },
      token: admin,
    });
    expect(created.status).toBe(201);
    const days = (Date.parse(created.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(await me({ token: created.body.token })).toBe(200);
    const none = await stack.pool.query(`SELECT count(*)::int AS n FROM api_tokens WHERE expires_at IS NULL`);
    expect(none.rows[0].n).toBe(0);
    await stack.pool.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      created.body.id,
    ]);
    expect(await me({ token: created.body.token })).toBe(401);
  });

  it('lets no admin probe user names of another tenant', async () => {
    await stack.createUser('operator', { tenant: 'acme', username: 'secret-agent' });
    const foreign = await requestJson(`${api}/api/users`, {
      body: { username: 'secret-agent', role: 'viewer', password: 'globex password 1' },
      token: foreignAdmin,
    });
    expect(foreign.status).toBe(201);
    const again = await requestJson<{ error: { issues: { path: string }[] } }>(`${api}/api/users`, {
      body: { username: 'secret-agent', role: 'viewer' },
      token: foreignAdmin,
    });
    expect(again.status).toBe(409);
    expect(again.body.error.issues.map((i) => i.path)).toEqual(['username']);
    // The two are different people: each signs in to their own tenant.
    const signedIn = await signIn('globex', 'secret-agent', 'globex password 1', '203.0.113.180');
    expect(signedIn.status).toBe(200);
    const who = await requestJson<{ user: { tenant: string } }>(`${api}/api/auth/me`, {
      headers: { cookie: signedIn.cookie! },
    });
    expect(who.body.user.tenant).toBe('globex');
    expect((await signIn('acme', 'secret-agent', 'globex password 1', '203.0.113.180')).status).toBe(401);
  });

  it("answers 404 to another tenant's admin for your users and their tokens, exactly as for missing ones", async () => {
    const victim = await stack.createUser('operator', { tenant: 'acme', username: 'victor-victim' });
    const tokenId = (await requestJson<{ tokens: TokenView[] }>(`${api}/api/tokens`, { token: victim.token })).body
      .tokens[0]!.id;
    const calls = [
      ['PATCH', '/api/users/victor-victim', { role: 'viewer' }],
      ['PATCH', '/api/users/victor-victim', { disabled: true }],
      ['DELETE', '/api/users/victor-victim', undefined],
      ['GET', '/api/users/victor-victim/tokens', undefined],
      ['DELETE', `/api/users/victor-victim/tokens/${tokenId}`, undefined],
    ] as const;
    for (const [method, url, body] of calls) {
      const res = await requestJson<{ error: { message: string } }>(`${api}${url}`, {
        method,
        ...(body && { body }),
        token: foreignAdmin,
      });
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.body.error.message).toBe('no user victor-victim');
      const missing = await requestJson<{ error: { message: string } }>(
        `${api}${url.replace('victor-victim', 'nobody-at-all')}`,
        { method, ...(body && { body }), token: foreignAdmin },
      );
      expect(missing.status).toBe(404);
    }
    expect(await me({ token: victim.token })).toBe(200);
    const row = await stack.pool.query(`SELECT role, disabled FROM users WHERE username = 'victor-victim'`);
    expect(row.rows[0]).toEqual({ role: 'operator', disabled: false });
  });

  it("runs the same lifecycle from the operators' command line, audited as the CLI", async () => {
    await stack.createUser('operator', { tenant: 'acme', username: 'cli-carl' });
    const cli = (...args: string[]) =>
      runCli('orchestrator/dist/cli.js', args, {
        PATH: process.env.PATH,
        DATABASE_URL: stack.roleUrls.orchestrator,
        USER: 'ops-person',
      });
    const list = await cli('users', '--tenant', 'acme');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^cli-carl\s+operator\s+enabled/m);
    expect((await cli('set-role', '--tenant', 'acme', '--username', 'cli-carl', '--role', 'approver')).status).toBe(0);
    expect((await stack.pool.query(`SELECT role FROM users WHERE username = 'cli-carl'`)).rows[0].role).toBe(
      'approver',
    );
    const tokens = await cli('tokens', '--tenant', 'acme', '--username', 'cli-carl');
    expect(tokens.status, tokens.stderr).toBe(0);
    const id = /^([0-9a-f-]{36})\s+active\s.*\stest$/m.exec(tokens.stdout)?.[1];
    expect(id).toBeDefined();
    expect((await cli('revoke-token', '--tenant', 'acme', '--username', 'cli-carl', '--id', id!)).status).toBe(0);
    expect((await cli('tokens', '--tenant', 'acme', '--username', 'cli-carl')).stdout).toMatch(
      new RegExp(`^${id}\\s+revoked\\s`, 'm'),
    );
    expect((await cli('disable', '--tenant', 'acme', '--username', 'cli-carl')).status).toBe(0);
    expect((await cli('users', '--tenant', 'acme')).stdout).toMatch(/^cli-carl\s+approver\s+disabled/m);
    expect((await cli('enable', '--tenant', 'acme', '--username', 'cli-carl')).status).toBe(0);
    expect((await cli('delete', '--tenant', 'acme', '--username', 'cli-carl')).status).toBe(0);
    expect((await cli('users', '--tenant', 'acme')).stdout).not.toMatch(/cli-carl/);
    const missing = await cli('disable', '--tenant', 'acme', '--username', 'cli-carl');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('no user cli-carl in tenant acme\n');
    const last = await cli('delete', '--tenant', 'solo', '--username', 'next-admin');
    expect(last.status).toBe(1);
    expect(last.stderr).toBe('next-admin is the last enabled admin of the tenant; make another user admin first\n');
    const entries = await audit(admin, 'actor=cli%3Aops-person');
    expect(entries.map((e) => e.action).sort()).toEqual([
      'token.revoke',
      'user.delete',
      'user.disable',
      'user.enable',
      'user.role',
    ]);
    expect(entries.find((e) => e.action === 'token.revoke')).toMatchObject({
      objectId: id,
      details: { user: 'cli-carl' },
    });
    expect(entries.filter((e) => e.action !== 'token.revoke').every((e) => e.objectId === 'cli-carl')).toBe(true);

    // create-admin's token expires too, and says when.
    const created = await cli('create-admin', '--tenant', 'acme', '--username', 'cli-admin');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/expires \d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z \(in 90 days\)/);
  });

  it('migrates existing data: every token without an expiry gets one, users and their names stay', async () => {
    const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    await admin.connect();
    const database = `t_identity_migration_${randomBytes(3).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const url = new URL(inject('postgresAdminUrl'));
    url.pathname = `/${database}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-migrations-'));
      const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
      const mine = files.find((f) => f.startsWith('007_'))!;
      for (const f of files.filter((f) => f < mine)) await copyFile(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
      await migrate(pool, dir);
      const tenant = (await pool.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('old') RETURNING id`))
        .rows[0]!.id;
      const user = (
        await pool.query<{ id: string }>(
          `INSERT INTO users (tenant_id, username, role) VALUES ($1, 'old-admin', 'admin') RETURNING id`,
          [tenant],
        )
      ).rows[0]!.id;
      await pool.query(
        `INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, 'forever', 'h1', 'opsc_x')`,
        [user],
      );
      await pool.query(
        `INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at) VALUES ($1, 'dated', 'h2', 'opsc_y', '2030-01-01Z')`,
        [user],
      );

      await copyFile(path.join(MIGRATIONS_DIR, mine), path.join(dir, mine));
      expect(await migrate(pool, dir)).toEqual({ applied: [mine.slice(0, -'.sql'.length)] });
      const tokens = (
        await pool.query<{ name: string; days: number }>(
          `SELECT name, round(extract(epoch FROM expires_at - now()) / 86400)::int AS days FROM api_tokens ORDER BY name`,
        )
      ).rows;
      expect(tokens.find((t) => t.name === 'forever')?.days).toBe(90);
      expect((await pool.query(`SELECT expires_at FROM api_tokens WHERE name = 'dated'`)).rows[0].expires_at).toEqual(
        new Date('2030-01-01Z'),
      );
      expect((await pool.query(`SELECT username, role FROM users`)).rows).toEqual([
        { username: 'old-admin', role: 'admin' },
      ]);
      await expect(
        pool.query(`INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, 'again', 'h3', 'opsc_z')`, [
          user,
        ]),
      ).rejects.toThrow(/expires_at/);
    } finally {
      await pool.end();
    }
  });

  it('pages through more than 1,000 audit entries newest first, by time then id, skipping and repeating nothing', async () => {
    const tenant = (await stack.pool.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'globex'`)).rows[0]!.id;
    // Times that disagree with insertion order, and runs of equal times, as concurrent transactions leave them.
    await stack.pool.query(
      `INSERT INTO audit_log (tenant_id, actor, action, at)
       SELECT $1, 'bulk', 'test.bulk', now() - make_interval(secs => ((g * 7919) % 400) / 10.0)
       FROM generate_series(1, 1200) AS g`,
      [tenant],
    );
    // By the numbers: a bare `id` in ORDER BY would be the text output column, the very bug.
    const expected = (
      await stack.pool.query<{ id: string }>(
        `SELECT a.id::text AS id FROM audit_log a WHERE a.tenant_id = $1 ORDER BY a.at DESC, a.id DESC`,
        [tenant],
      )
    ).rows.map((r) => r.id);
    expect(expected.length).toBeGreaterThan(1_000);
    const seen: AuditEntry[] = [];
    let before: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page: { status: number; body: { entries: AuditEntry[]; next: string | null } } = await requestJson(
        `${api}/api/audit?limit=97${before ? `&before=${encodeURIComponent(before)}` : ''}`,
        { token: foreignAdmin },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.entries);
      before = page.body.next;
      if (!before) break;
    }
    expect(seen.map((e) => e.id)).toEqual(expected);
    for (let i = 1; i < seen.length; i++)
      expect(Date.parse(seen[i]!.at)).toBeLessThanOrEqual(Date.parse(seen[i - 1]!.at));
    const bad = await requestJson<{ error: { issues: { path: string }[] } }>(`${api}/api/audit?before=12`, {
      token: foreignAdmin,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toEqual(['query.before']);
  });
});
