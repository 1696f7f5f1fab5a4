import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, openCredential, VaultError } from '@opsc/activities/vault';
import { REPO_ROOT } from '@opsc/dev';
import { requestJson } from '../support/api.js';
import { vaultCli } from '../support/cli.js';
import { createTestStack, type TestStack } from '../support/stack.js';

// A value planted to prove it never leaks: it must appear nowhere but inside the executor.
const PLANTED = 'PLANTED-s3cret-7f3a9c';

describe('credential vault: write-only secrets, opened only by the executor, rotated without downtime', () => {
  let stack: TestStack;
  let api: string;
  let admin: string;
  let viewer: string;
  let executorPool: pg.Pool;

  beforeAll(async () => {
    stack = await createTestStack('vault');
    [{ apiUrl: api }] = await Promise.all([stack.startOrchestrator(), stack.startExecutor()]);
    admin = (await stack.createUser('admin')).token;
    viewer = (await stack.createUser('viewer')).token;
    executorPool = new pg.Pool({ connectionString: stack.roleUrls.executor, max: 2 });
  });

  afterAll(async () => {
    await executorPool?.end();
    await stack?.close();
  });

  it('has the executor publish its public key at start, and only that', async () => {
    const { rows } = await stack.pool.query('SELECT key_id, public_key FROM vault_keys WHERE retired_at IS NULL');
    expect(rows).toHaveLength(1);
    const keyring = createKeyring([readFileSync(stack.vaultKeyFile, 'utf8')]);
    expect(rows[0].key_id).toBe(keyring.current.keyId);
  });

  it('seals a secret on arrival, answers with metadata and a fingerprint, and never returns it', async () => {
    const created = await requestJson<{ credential: Record<string, unknown> }>(`${api}/api/credentials`, {
      token: admin,
      body: {
        name: 'cis-admin',
        username: 'Administrator',
        metadata: { transport: 'ntlm' },
        secret: { kind: 'winrm', password: PLANTED },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.credential).toMatchObject({
      name: 'cis-admin',
      kind: 'winrm',
      username: 'Administrator',
      metadata: { transport: 'ntlm' },
    });
    expect(created.body.credential.fingerprint).toMatch(/^sealed:[0-9a-f]{16}$/);
    const list = await requestJson(`${api}/api/credentials`, { token: viewer });
    expect(list.status).toBe(200);
    for (const body of [created.body, list.body]) expect(JSON.stringify(body)).not.toContain(PLANTED);

    const replaced = await requestJson<{ credential: { fingerprint: string } }>(`${api}/api/credentials/cis-admin`, {
      method: 'PUT',
      token: admin,
      body: { name: 'cis-admin', username: 'Administrator', secret: { kind: 'winrm', password: `${PLANTED}-2` } },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.credential.fingerprint).not.toBe(created.body.credential.fingerprint);
  });

  it('opens the secret with the executor role and key, and with nothing less', async () => {
    const { rows } = await stack.pool.query<{ id: string }>(`SELECT id FROM credentials WHERE name = 'cis-admin'`);
    const id = rows[0]!.id;
    const keyring = createKeyring([readFileSync(stack.vaultKeyFile, 'utf8')]);
    expect(await openCredential(executorPool, keyring, id)).toEqual({
      username: 'Administrator',
      secret: { kind: 'winrm', password: `${PLANTED}-2` },
    });
    const orchestratorPool = new pg.Pool({ connectionString: stack.roleUrls.orchestrator, max: 1 });
    await expect(openCredential(orchestratorPool, keyring, id)).rejects.toMatchObject({ code: '42501' });
    await orchestratorPool.end();
    const { pem } = (await import('@opsc/activities/vault')).generateMasterKey();
    await expect(openCredential(executorPool, createKeyring([pem]), id)).rejects.toBeInstanceOf(VaultError);
  });

  it('keeps the planted secret out of every table, the audit log and the service logs', async () => {
    const tables = (
      await stack.pool.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
    ).rows;
    for (const { tablename } of tables) {
      const dump = JSON.stringify((await stack.pool.query(`SELECT * FROM ${pg.escapeIdentifier(tablename)}`)).rows);
      expect(dump, tablename).not.toContain(PLANTED);
    }
    const logDir = path.join(REPO_ROOT, 'test-results', 'logs');
    for (const file of readdirSync(logDir).filter((f) => f.startsWith(stack.namespace))) {
      expect(readFileSync(path.join(logDir, file), 'utf8'), file).not.toContain(PLANTED);
    }
  });

  it('answers 4xx naming the field for bad credentials, and stores nothing', async () => {
    const cases: [unknown, number, string][] = [
      [{ name: 'c1', secret: { kind: 'telnet', password: 'x' } }, 400, 'secret.kind'],
      [{ name: 'c2', secret: { kind: 'password' } }, 400, 'secret.password'],
      [{ name: 'c3', secret: { kind: 'ssh-key', privateKey: 'not a key' } }, 400, 'secret.privateKey'],
      [{ name: 'cis-admin', secret: { kind: 'password', password: 'x' } }, 409, 'name'],
    ];
    for (const [body, status, field] of cases) {
      const res = await requestJson<{ error: { issues?: { path: string }[]; message: string } }>(
        `${api}/api/credentials`,
        { token: admin, body },
      );
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.issues?.map((i) => i.path)).toContain(field);
      expect(JSON.stringify(res.body)).not.toContain('"x"');
    }
    expect(
      (
        await requestJson(`${api}/api/credentials`, {
          token: viewer,
          body: { name: 'v', secret: { kind: 'password', password: 'x' } },
        })
      ).status,
    ).toBe(403);
    const names = (await stack.pool.query('SELECT name FROM credentials ORDER BY name')).rows.map((r) => r.name);
    expect(names).toEqual(['cis-admin']);
  });

  it('rotates the master key: every secret re-wrapped, opened by the new key alone, the old key useless', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-rotate-'));
    const newKeyFile = path.join(dir, 'next.pem');
    const cli = vaultCli(stack);
    expect((await cli(['generate-key', newKeyFile])).status).toBe(0);
    const rotated = await cli(['rotate', '--new-key-file', newKeyFile]);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/1 secrets re-wrapped/);

    const next = createKeyring([readFileSync(newKeyFile, 'utf8')]);
    const old = createKeyring([readFileSync(stack.vaultKeyFile, 'utf8')]);
    const keys = await stack.pool.query(
      'SELECT key_id, retired_at IS NOT NULL AS retired FROM vault_keys ORDER BY created_at',
    );
    expect(keys.rows).toEqual([
      { key_id: old.current.keyId, retired: true },
      { key_id: next.current.keyId, retired: false },
    ]);
    const id = (await stack.pool.query<{ id: string }>(`SELECT id FROM credentials WHERE name = 'cis-admin'`)).rows[0]!
      .id;
    expect((await openCredential(executorPool, next, id)).secret).toEqual({ kind: 'winrm', password: `${PLANTED}-2` });
    await expect(openCredential(executorPool, old, id)).rejects.toBeInstanceOf(VaultError);

    // New credentials are sealed for the new key straight away.
    const created = await requestJson<{ credential: { keyId: string } }>(`${api}/api/credentials`, {
      token: admin,
      body: { name: 'after', secret: { kind: 'api-token', token: 't' } },
    });
    expect(created.body.credential.keyId).toBe(next.current.keyId);
    const audit = await stack.pool.query(`SELECT details FROM audit_log WHERE action = 'vault.rotate'`);
    expect(audit.rows).toEqual([{ details: { rewrapped: 1 } }]);
  });
});
