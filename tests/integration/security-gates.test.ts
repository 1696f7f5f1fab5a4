import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson } from '../support/api.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/**
 * One gate for every plan: whoever wrote it, its risk is computed on the server from the actions and
 * the catalog. A raw executable plan that calls its own change `read` waits for approval like any.
 */
describe('security: the approval gate cannot be talked around', () => {
  let stack: TestStack;
  let api: string;
  let operator: string;

  const winrmTargets = async () => {
    // Two Windows targets with a WinRM service and a credential (nothing listens: the job must wait for approval anyway).
    const { rows } = await stack.pool.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'acme'`);
    const tenantId = rows[0]!.id;
    const cred = await stack.pool.query<{ id: string }>(
      `INSERT INTO credentials (tenant_id, name, kind, username, fingerprint) VALUES ($1, 'win-admin', 'winrm', 'Administrator', 'sha256:test') RETURNING id`,
      [tenantId],
    );
    for (const name of ['cis-1', 'cis-2']) {
      const t = await stack.pool.query<{ id: string }>(
        `INSERT INTO targets (tenant_id, name, address, os) VALUES ($1, $2, '127.0.0.9', 'windows') RETURNING id`,
        [tenantId, name],
      );
      await stack.pool.query(
        `INSERT INTO target_services (target_id, protocol, port, options, credential_id) VALUES ($1, 'winrm', 5985, '{"scheme":"http","transport":"ntlm"}', $2)`,
        [t.rows[0]!.id, cred.rows[0]!.id],
      );
    }
  };

  beforeAll(async () => {
    stack = await createTestStack('security-gates');
    api = (await stack.startOrchestrator()).apiUrl;
    ({ token: operator } = await stack.createUser('operator'));
    await winrmTargets();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const submit = (plan: unknown) =>
    requestJson<{ id: string; risk: string; approvalRequired: boolean; error?: { issues: { path: string }[] } }>(
      `${api}/api/jobs`,
      { body: { plan }, token: operator },
    );

  const statusOf = async (id: string): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const { body } = await requestJson<{ status: string }>(`${api}/api/jobs/${id}`, { token: operator });
      if (body.status !== 'queued') return body.status;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${id} stayed queued`);
  };

  it('does not take a step\'s risk from the body: a PowerShell stop marked "read" waits for approval, and the audit says change', async () => {
    const stop = { method: 'winrm', operation: { op: 'powershell', script: 'Stop-Service stationcontroller' } };
    const declaredRead = {
      name: 'service-status',
      risk: 'read',
      params: { service: 'stationcontroller' },
      typicalDurationSeconds: 1,
    };
    const withTool = await submit({
      name: 'looks harmless',
      steps: [{ id: 'stop', name: 'Stop', targets: { targets: ['cis-1', 'cis-2'] }, action: stop, tool: declaredRead }],
    });
    const withoutTool = await submit({
      name: 'plain',
      steps: [{ id: 'stop', name: 'Stop', targets: { targets: ['cis-1', 'cis-2'] }, action: stop }],
    });
    for (const created of [withTool, withoutTool]) {
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ risk: 'change', approvalRequired: true });
      expect(await statusOf(created.body.id)).toBe('awaiting_approval');
    }
    const audit = await stack.pool.query<{ details: { risk: string; approvalRequired: boolean } }>(
      `SELECT details FROM audit_log WHERE action = 'job.submit' AND job_id = $1`,
      [withTool.body.id],
    );
    expect(audit.rows[0]?.details).toMatchObject({ risk: 'change', approvalRequired: true });
    // What the job runs says what the server decided, not what the body claimed.
    const stored = await stack.pool.query<{
      plan: { steps: { tool?: { risk: string } }[]; policies: { approvalRequired: boolean } };
    }>('SELECT plan FROM jobs WHERE id = $1', [withTool.body.id]);
    expect(stored.rows[0]?.plan.steps[0]?.tool?.risk).toBe('change');
    expect(stored.rows[0]?.plan.policies.approvalRequired).toBe(true);
  });

  it('counts a local command that reads files or writes them as a change, and HTTP other than GET and HEAD too', async () => {
    const cases = [
      { method: 'local-command', command: 'curl', args: ['file:///etc/hostname'] },
      { method: 'local-command', command: 'curl', args: ['-o', '/tmp/opsc-curl-wrote-this', 'http://127.0.0.1:1/'] },
      { method: 'local-command', command: 'date', args: ['-f', '/etc/hostname'] },
      { method: 'local-command', command: 'hostname', args: ['renamed'] },
      { method: 'http', url: 'https://api.example.org/v1/things/1', httpMethod: 'DELETE' },
    ];
    for (const action of cases) {
      const created = await submit({
        name: 'probe',
        steps: [
          {
            id: 's',
            name: 's',
            action,
            tool: { name: 'http-check', risk: 'read', params: {}, typicalDurationSeconds: 1 },
          },
        ],
      });
      expect(created.status, JSON.stringify(action)).toBe(201);
      expect(created.body, JSON.stringify(action)).toMatchObject({ risk: 'change', approvalRequired: true });
    }
    const look = await submit({
      name: 'look',
      steps: [{ id: 'd', name: 'd', action: { method: 'local-command', command: 'date', args: ['+%F'] } }],
    });
    expect(look.body).toMatchObject({ risk: 'read', approvalRequired: false });
  });

  it('lets no plan, planned or raw, name a loopback service or a metadata address', async () => {
    const { port } = new URL(api);
    // Even a tenant that allows the API's address cannot open the platform to its steps.
    const { token: admin } = await stack.createUser('admin');
    expect(
      (
        await requestJson(`${api}/api/tenant/egress`, {
          method: 'PUT',
          token: admin,
          body: { allow: [{ destination: `127.0.0.1:${port}` }, { destination: '127.0.0.1:9' }] },
        })
      ).status,
    ).toBe(200);
    // The built-in planner reads "is <url> up?" as an http check: the validator refuses it on the field.
    const planned = await requestJson<{ status: string; issues: { path: string; message: string }[] }>(
      `${api}/api/plans`,
      { body: { request: `is http://127.0.0.1:${port}/api/health up?` }, token: operator },
    );
    expect(planned.status).toBe(200);
    expect(planned.body.status).toBe('invalid');
    expect(planned.body.issues).toEqual([
      { path: 'steps.0.params.url', message: expect.stringMatching(/service of the platform itself/) },
    ]);
    // What the tenant allows, a planned step may reach.
    const allowed = await requestJson<{ status: string }>(`${api}/api/plans`, {
      body: { request: 'is http://127.0.0.1:9/ up?' },
      token: operator,
    });
    expect(allowed.body.status).toBe('ready');
    const job = await requestJson<{ error: { issues: { path: string }[] } }>(`${api}/api/jobs`, {
      body: { request: 'check that http://169.254.169.254/latest/meta-data/ answers' },
      token: operator,
    });
    expect(job.status).toBe(422);
    expect(job.body.error.issues.map((i) => i.path)).toEqual(['draft.steps.0.params.url']);
    const raw = await submit({
      name: 'x',
      steps: [{ id: 'h', name: 'h', action: { method: 'http', url: `http://localhost:${port}/api/jobs` } }],
    });
    expect(raw.status).toBe(422);
    expect(raw.body.error?.issues.map((i) => i.path)).toEqual(['plan.steps.0.action.url']);
  });

  it('refuses a raw step that names a tool the catalog does not have, naming the field', async () => {
    const created = await submit({
      name: 'x',
      steps: [
        {
          id: 's',
          name: 's',
          action: { method: 'local-command', command: 'uptime' },
          tool: { name: 'totally-safe', risk: 'read', params: {}, typicalDurationSeconds: 1 },
        },
      ],
    });
    expect(created.status).toBe(422);
    expect(created.body.error?.issues.map((i) => i.path)).toEqual(['plan.steps.0.tool.name']);
  });
});
