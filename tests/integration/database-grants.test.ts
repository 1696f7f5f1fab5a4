import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../support/stack.js';

const PERMISSION_DENIED = '42501';

describe('PostgreSQL itself keeps secrets from the orchestrator and the audit log append-only', () => {
  let stack: TestStack;
  let orchestrator: pg.Pool;
  let executor: pg.Pool;
  let credentialId: string;
  let tenantId: string;

  beforeAll(async () => {
    stack = await createTestStack('grants');
    orchestrator = new pg.Pool({ connectionString: stack.roleUrls.orchestrator, max: 1 });
    executor = new pg.Pool({ connectionString: stack.roleUrls.executor, max: 1 });
    tenantId = (await orchestrator.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('acme') RETURNING id`))
      .rows[0]!.id;
    credentialId = (
      await orchestrator.query<{ id: string }>(
        `INSERT INTO credentials (tenant_id, name, kind, username, fingerprint) VALUES ($1, 'cis-admin', 'winrm', 'Administrator', 'sealed:0') RETURNING id`,
        [tenantId],
      )
    ).rows[0]!.id;
    // The orchestrator may write a sealed secret (it has only the vault's public key) ...
    await orchestrator.query(
      `INSERT INTO credential_secrets (credential_id, key_id, sealed) VALUES ($1, '0123456789abcdef', '{"v":1}')`,
      [credentialId],
    );
  });

  afterAll(async () => {
    await orchestrator?.end();
    await executor?.end();
    await stack?.close();
  });

  it('refuses the orchestrator role any read of the sealed secrets', async () => {
    for (const sql of [
      'SELECT sealed FROM credential_secrets',
      'SELECT * FROM credential_secrets',
      'SELECT count(sealed) FROM credential_secrets',
    ]) {
      await expect(orchestrator.query(sql), sql).rejects.toMatchObject({ code: PERMISSION_DENIED });
    }
    // ... and may see that one exists, and replace or delete it, without reading it.
    const meta = await orchestrator.query(
      'SELECT credential_id, key_id FROM credential_secrets WHERE credential_id = $1',
      [credentialId],
    );
    expect(meta.rows).toEqual([{ credential_id: credentialId, key_id: '0123456789abcdef' }]);
    await orchestrator.query(`UPDATE credential_secrets SET sealed = '{"v":1,"x":2}' WHERE credential_id = $1`, [
      credentialId,
    ]);
  });

  it('keeps notification channel secrets as write-only to the orchestrator as credentials', async () => {
    const channelId = (
      await orchestrator.query<{ id: string }>(
        `INSERT INTO notification_channels (tenant_id, name, kind, fingerprint, created_by) VALUES ($1, 'hook', 'webhook', 'sealed:0', 'ada') RETURNING id`,
        [tenantId],
      )
    ).rows[0]!.id;
    await orchestrator.query(
      `INSERT INTO notification_channel_secrets (channel_id, key_id, sealed) VALUES ($1, '0123456789abcdef', '{"v":1}')`,
      [channelId],
    );
    for (const sql of ['SELECT sealed FROM notification_channel_secrets', 'SELECT * FROM notification_channel_secrets'])
      await expect(orchestrator.query(sql), sql).rejects.toMatchObject({ code: PERMISSION_DENIED });
    // Deliveries are the executor's record: the orchestrator reads them, never writes them.
    await expect(
      orchestrator.query(
        `INSERT INTO notification_deliveries (event_id, channel_id, tenant_id, event, status) VALUES ('x', $1, $2, 'finished', 'delivered')`,
        [channelId, tenantId],
      ),
    ).rejects.toMatchObject({ code: PERMISSION_DENIED });
    const { rows } = await executor.query('SELECT sealed FROM notification_channel_secrets WHERE channel_id = $1', [
      channelId,
    ]);
    expect(rows[0].sealed).toEqual({ v: 1 });
  });

  it('lets the executor role read the sealed secret it must open', async () => {
    const { rows } = await executor.query('SELECT sealed FROM credential_secrets WHERE credential_id = $1', [
      credentialId,
    ]);
    expect(rows[0].sealed).toEqual({ v: 1, x: 2 });
  });

  it('lets the executor read inventory but not change it', async () => {
    await expect(executor.query(`UPDATE credentials SET name = 'x'`)).rejects.toMatchObject({
      code: PERMISSION_DENIED,
    });
    await expect(
      executor.query(`INSERT INTO targets (tenant_id, name, address, os) VALUES ($1, 'x', '127.0.0.2', 'linux')`, [
        tenantId,
      ]),
    ).rejects.toMatchObject({
      code: PERMISSION_DENIED,
    });
    await expect(executor.query('SELECT username FROM users')).rejects.toMatchObject({ code: PERMISSION_DENIED });
  });

  it('keeps the audit log append-only for both roles, and for its owner', async () => {
    await orchestrator.query(
      `INSERT INTO audit_log (tenant_id, actor, action) VALUES ($1, 'alice', 'credential.create')`,
      [tenantId],
    );
    await executor.query(`INSERT INTO audit_log (tenant_id, actor, action) VALUES ($1, 'executor', 'vault.rotate')`, [
      tenantId,
    ]);
    for (const pool of [orchestrator, executor]) {
      await expect(pool.query(`UPDATE audit_log SET actor = 'mallory'`)).rejects.toMatchObject({
        code: PERMISSION_DENIED,
      });
      await expect(pool.query('DELETE FROM audit_log')).rejects.toMatchObject({ code: PERMISSION_DENIED });
    }
    await expect(stack.pool.query('DELETE FROM audit_log')).rejects.toThrow('audit_log is append-only');
    await expect(stack.pool.query('TRUNCATE audit_log')).rejects.toThrow('audit_log is append-only');
    const { rows } = await stack.pool.query('SELECT actor FROM audit_log ORDER BY id');
    expect(rows.map((r) => r.actor)).toEqual(['alice', 'executor']);
  });

  it('lets the executor append output lines but not read or change them, and the orchestrator read them', async () => {
    await stack.pool.query(
      `INSERT INTO jobs (id, tenant_id, name, plan, plan_hash, requested_by, status) VALUES ('job-grants', $1, 'g', '{}', $2, 'x', 'running')`,
      [tenantId, '0'.repeat(64)],
    );
    const line = (text: string) =>
      executor.query(
        `INSERT INTO output_lines (job_id, step_id, target_id, target_name, attempt, stream, at, line) VALUES ('job-grants', 's', 't', 'web-01', 1, 'stdout', now(), $1)`,
        [text],
      );
    await line('first');
    await line('second');
    for (const sql of [
      'SELECT line FROM output_lines',
      `UPDATE output_lines SET line = 'x'`,
      'DELETE FROM output_lines',
    ]) {
      await expect(executor.query(sql), sql).rejects.toMatchObject({ code: PERMISSION_DENIED });
    }
    await expect(orchestrator.query(`UPDATE output_lines SET line = 'x'`)).rejects.toMatchObject({
      code: PERMISSION_DENIED,
    });
    const { rows } = await orchestrator.query(`SELECT line FROM output_lines WHERE job_id = 'job-grants' ORDER BY seq`);
    expect(rows.map((r) => r.line)).toEqual(['first', 'second']);
    // Deleting the job (the orchestrator may) takes its lines along.
    await orchestrator.query(`DELETE FROM jobs WHERE id = 'job-grants'`);
    expect((await stack.pool.query(`SELECT count(*)::int AS n FROM output_lines`)).rows[0].n).toBe(0);
  });

  it('does not let either role change the schema', async () => {
    for (const pool of [orchestrator, executor]) {
      await expect(pool.query('DROP TABLE audit_log')).rejects.toThrow(/must be owner/);
      await expect(pool.query('CREATE TABLE evil (id int)')).rejects.toMatchObject({ code: PERMISSION_DENIED });
    }
  });
});
