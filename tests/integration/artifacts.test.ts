import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactList } from '@opsc/contracts/api';
import { expectAnswer, recordAnswer, requestJson } from '../support/api.js';
import { postArtifact, sha256Of, uploadArtifact } from '../support/artifacts.js';
import { approveAndWait, submitDraft } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// The artifact store end to end: uploads streamed into PostgreSQL through the real API, the limit,
// hostile names, tenants kept apart, and a real executor reading the pinned version to a real sshd host.
const LIMIT = 3 * 1024 * 1024;
/** What one tenant's versions may take together (ARTIFACT_TENANT_MAX_BYTES). */
const QUOTA = 6 * 1024 * 1024;

let h: SshHarness;
let api: string;
let admin: { token: string };
let operator: { token: string };
let approver: { token: string };

const onHost = async (script: string) => (await h.fleet.exec(0, script)).stdout.trim();
const list = async (token: string) => {
  const res = await requestJson<ArtifactList>(`${api}/api/artifacts`, { token });
  expect(res.status).toBe(200);
  return expectAnswer(ArtifactList, res.body, 'artifact list');
};
const download = async (token: string, id: string) => {
  const res = await fetch(`${api}/api/artifacts/${id}/content`, { headers: { authorization: `Bearer ${token}` } });
  const body = Buffer.from(await res.arrayBuffer());
  recordAnswer(`${api}/api/artifacts/${id}/content`, res.ok ? `(${body.length} bytes)` : body.toString());
  return { status: res.status, body, sha256: res.headers.get('x-artifact-sha256') };
};

beforeAll(async () => {
  h = await startSshHarness('artifacts', {
    size: 1,
    host: () => ({ files: { '/opt/app/app.bin': 'version=1\n' } }),
    groups: { Fleet: [0] },
    orchestratorEnv: { ARTIFACT_MAX_BYTES: String(LIMIT), ARTIFACT_TENANT_MAX_BYTES: String(QUOTA) },
  });
  api = h.orchestrator.apiUrl;
  admin = h.admin;
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('uploads', () => {
  it('stores a file in chunks as an immutable version, lists it, downloads the same bytes and audits it', async () => {
    const content = randomBytes(2.5 * 1024 * 1024);
    const first = await postArtifact(api, operator.token, 'releases/app 2.0.bin', content);
    expect(first.status).toBe(201);
    const artifact = first.body.artifact as { id: string; sha256: string; sizeBytes: number; uploadedBy: string };
    expect(artifact).toMatchObject({ sha256: sha256Of(content), sizeBytes: content.length, newest: true });
    const { rows } = await h.stack.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM artifact_chunks WHERE artifact_id = $1',
      [artifact.id],
    );
    expect(rows[0]?.n).toBe(3);
    // The same bytes under the same name are the version already there.
    const again = await postArtifact(api, operator.token, 'releases/app 2.0.bin', content);
    expect(again.status).toBe(200);
    expect((again.body.artifact as { id: string }).id).toBe(artifact.id);
    const listed = await list(h.admin.token);
    expect(listed.maxBytes).toBe(LIMIT);
    expect(listed.artifacts.filter((a) => a.name === 'releases/app 2.0.bin').map((a) => a.id)).toEqual([artifact.id]);
    const got = await download(operator.token, artifact.id);
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(artifact.sha256);
    expect(sha256Of(got.body)).toBe(artifact.sha256);
    const audit = await h.stack.pool.query<{ actor: string; details: Record<string, unknown> }>(
      "SELECT actor, details FROM audit_log WHERE action = 'artifact.upload' AND object_id = $1",
      [artifact.id],
    );
    expect(audit.rows).toEqual([
      {
        actor: artifact.uploadedBy,
        details: { name: 'releases/app 2.0.bin', sha256: artifact.sha256, sizeBytes: content.length },
      },
    ]);
  });

  it('refuses hostile names, naming the field, and bodies that are not a file', async () => {
    const hostile = [
      '../etc/passwd',
      '/etc/passwd',
      'a//b',
      './a',
      'a/../b',
      'a\u0000b',
      'a\nb',
      '<script>',
      'x'.repeat(256),
      '',
    ];
    for (const name of hostile) {
      const res = await postArtifact(api, operator.token, name, 'x');
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(JSON.stringify(res.body), JSON.stringify(name)).toMatch(/query\.name|NUL|control/);
    }
    const json = await postArtifact(api, operator.token, 'a.bin', '{}', { 'content-type': 'application/json' });
    expect(json.status).toBe(415);
    expect((json.body.error as { message: string }).message).toMatch(/application\/octet-stream/);
    expect((await list(admin.token)).artifacts.some((a) => a.name === 'a.bin')).toBe(false);
  });

  it('refuses more than the limit with 413 naming it, declared or streamed, and keeps nothing', async () => {
    const declared = await postArtifact(api, operator.token, 'big.bin', randomBytes(LIMIT + 1));
    expect(declared.status).toBe(413);
    expect((declared.body.error as { message: string }).message).toContain(String(LIMIT));
    // No Content-Length: the API counts as the bytes stream in.
    const chunk = randomBytes(512 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > LIMIT + chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${api}/api/artifacts?name=big.bin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/octet-stream' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.text()).toContain(String(LIMIT));
    const { rows } = await h.stack.pool.query("SELECT 1 FROM artifacts WHERE name = 'big.bin'");
    expect(rows).toEqual([]);
    const orphans = await h.stack.pool.query(
      'SELECT 1 FROM artifact_chunks c WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.id = c.artifact_id)',
    );
    expect(orphans.rows).toEqual([]);
  });

  it("refuses an upload past the tenant's total with 413 naming the quota and what is in use, declared or streamed, and keeps nothing", async () => {
    const initech = await h.stack.createUser('operator', { tenant: 'initech' });
    const part = 2.5 * 1024 * 1024;
    expect((await postArtifact(api, initech.token, 'one.bin', randomBytes(part))).status).toBe(201);
    expect((await postArtifact(api, initech.token, 'two.bin', randomBytes(part))).status).toBe(201);
    const used = String(2 * part);
    const declared = await postArtifact(api, initech.token, 'three.bin', randomBytes(1.5 * 1024 * 1024));
    expect(declared.status).toBe(413);
    const error = declared.body.error as { type: string; message: string; issues: { path: string; message: string }[] };
    expect(error.type).toBe('TooLarge');
    expect(error.message).toContain('ARTIFACT_TENANT_MAX_BYTES');
    expect(error.message).toContain(String(QUOTA));
    expect(error.issues).toEqual([{ path: 'body', message: expect.stringContaining(`${used} of ${QUOTA} bytes`) }]);
    // No Content-Length: refused once the bytes are in, inside the upload's transaction.
    const chunk = randomBytes(256 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6 * chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${api}/api/artifacts?name=three.bin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${initech.token}`, 'content-type': 'application/octet-stream' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    const streamed = await res.text();
    expect(streamed).toContain('ARTIFACT_TENANT_MAX_BYTES');
    expect(streamed).toContain(`use ${used} of`);
    expect((await h.stack.pool.query("SELECT 1 FROM artifacts WHERE name = 'three.bin'")).rows).toEqual([]);
    const orphans = await h.stack.pool.query(
      'SELECT 1 FROM artifact_chunks c WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.id = c.artifact_id)',
    );
    expect(orphans.rows).toEqual([]);
    // A small file still fits, and other tenants have their own total.
    expect((await postArtifact(api, initech.token, 'small.bin', randomBytes(512 * 1024))).status).toBe(201);
    expect((await postArtifact(api, operator.token, 'acme-more.bin', randomBytes(part))).status).toBe(201);
  });

  it('keeps tenants apart, and roles: viewers read, operators upload, admins delete', async () => {
    const sha256 = await uploadArtifact(api, operator.token, 'tenant.bin', 'acme only\n');
    const mine = (await list(admin.token)).artifacts.find((a) => a.sha256 === sha256);
    if (!mine) throw new Error('the upload is not listed');
    const other = await h.stack.createUser('admin', { tenant: 'globex' });
    expect((await list(other.token)).artifacts).toEqual([]);
    expect((await requestJson(`${api}/api/artifacts/${mine.id}`, { token: other.token })).status).toBe(404);
    expect((await download(other.token, mine.id)).status).toBe(404);
    expect(
      (await requestJson(`${api}/api/artifacts/${mine.id}`, { token: other.token, method: 'DELETE' })).status,
    ).toBe(404);
    // An executor asked for acme's artifact by a globex job finds nothing.
    const globexJob = `job-${randomUUID()}`;
    await h.stack.pool.query(
      `INSERT INTO jobs (id, tenant_id, name, plan, plan_hash, requested_by, status) VALUES ($1, $2, 'x', '{}', $3, 'x', 'running')`,
      [globexJob, other.tenantId, '0'.repeat(64)],
    );
    await expect(h.ssh.artifacts.open(globexJob, 'tenant.bin', sha256)).rejects.toThrow(/no upload of artifact/);
    const viewer = await h.stack.createUser('viewer', { tenant: 'acme' });
    expect((await postArtifact(api, viewer.token, 'v.bin', 'x')).status).toBe(403);
    expect((await download(viewer.token, mine.id)).status).toBe(200);
    expect(
      (await requestJson(`${api}/api/artifacts/${mine.id}`, { token: operator.token, method: 'DELETE' })).status,
    ).toBe(403);
  });
});

describe('executors', () => {
  it('refuse bytes in the store that are not the SHA-256 the copy pins, and copy nothing', async () => {
    const content = randomBytes(100_000);
    const sha256 = await uploadArtifact(api, operator.token, 'tampered.bin', content);
    await h.stack.pool.query(
      `UPDATE artifact_chunks SET data = $1 WHERE artifact_id = (SELECT id FROM artifacts WHERE name = 'tampered.bin')`,
      [randomBytes(100_000)],
    );
    await expect(
      h.run(0, { op: 'file-copy', source: 'tampered.bin', sha256, destination: '/tmp/tampered.bin' }),
    ).rejects.toThrow(/not the .* its plan pins/);
    expect(await onHost('ls /tmp/tampered.bin 2>/dev/null || echo none')).toBe('none');
  });
});

describe('plans', () => {
  it('pin the newest upload when validated: a re-upload under the name changes no approved job, and delete waits for it', async () => {
    await h.stack.startExecutor();
    const v1 = await uploadArtifact(api, operator.token, 'app/app.bin', 'version=2\n');
    const draft = {
      name: 'copy the new build',
      steps: [
        {
          id: 'copy',
          tool: 'file-copy',
          params: { source: 'app/app.bin', destination: '/opt/app/app.bin' },
          targets: { group: 'Fleet' },
        },
      ],
    };
    const missing = await requestJson(`${api}/api/plans`, {
      token: operator.token,
      body: {
        plan: {
          ...draft,
          steps: [{ ...draft.steps[0], params: { source: 'app/none.bin', destination: '/opt/app/x' } }],
        },
      },
    });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ error: { issues: [{ path: 'plan.steps.0.params.source' }] } });
    const created = await submitDraft(api, operator.token, draft);
    const detail = await requestJson<{ plan: { steps: { action: { operation: { sha256?: string } } }[] } }>(
      `${api}/api/jobs/${created.id}`,
      { token: operator.token },
    );
    expect(detail.body.plan.steps[0]?.action.operation.sha256).toBe(v1);
    // Someone uploads another build under the same name before the approval.
    const v2 = await uploadArtifact(api, operator.token, 'app/app.bin', 'version=3\n');
    expect(v2).not.toBe(v1);
    const versions = (await list(admin.token)).artifacts.filter((a) => a.name === 'app/app.bin');
    expect(versions.map((a) => [a.sha256, a.newest])).toEqual([
      [v2, true],
      [v1, false],
    ]);
    const old = versions[1]!;
    // While the job is unfinished, the version it copies cannot be deleted.
    const refused = await requestJson(`${api}/api/artifacts/${old.id}`, { token: admin.token, method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain(created.id);
    const job = await approveAndWait(api, operator.token, approver.token, created, 120_000);
    expect(job.status).toBe('completed');
    expect(await onHost('cat /opt/app/app.bin')).toBe('version=2');
    expect(await onHost("sha256sum /opt/app/app.bin | cut -d' ' -f1")).toBe(v1);
    // A plan validated now pins the newest upload.
    const now = await requestJson<{ plan: { steps: { action: { operation: { sha256?: string } } }[] } }>(
      `${api}/api/plans`,
      {
        token: operator.token,
        body: { plan: draft },
      },
    );
    expect(now.status).toBe(200);
    expect(now.body.plan.steps[0]?.action.operation.sha256).toBe(v2);
    // So does a plan made from a request in words.
    const asked = await requestJson<{
      status: string;
      plan: { steps: { action: { operation?: { sha256?: string } } }[] };
    }>(`${api}/api/plans`, {
      token: operator.token,
      body: { request: "copy app/app.bin to /opt/app/app.bin on the servers in 'Fleet'" },
    });
    expect(asked.body.status).toBe('ready');
    expect(asked.body.plan.steps.map((s) => s.action.operation?.sha256).filter(Boolean)).toEqual([v2]);
    const deleted = await requestJson(`${api}/api/artifacts/${old.id}`, { token: admin.token, method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const audit = await h.stack.pool.query(
      "SELECT 1 FROM audit_log WHERE action = 'artifact.delete' AND object_id = $1",
      [old.id],
    );
    expect(audit.rowCount).toBe(1);
  }, 180_000);
});
