import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TemplateDetail, TriggerWithSecret } from '@opsc/contracts/api';
import { eventually, recordAnswer, requestJson } from '../support/api.js';
import { postArtifact } from '../support/artifacts.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// The orchestrator's PostgreSQL pool (10 connections) cannot be taken by callers: slow uploads hold
// none while their bytes trickle in, and a burst of trigger deliveries cannot deadlock it. Real API,
// PostgreSQL, Temporal and an sshd host for the template's target group.
let h: SshHarness;
let api: string;
const PASSWORD = 'a long test password 19';
const IDLE_SECONDS = 3;

beforeAll(async () => {
  h = await startSshHarness('pool-safety', {
    size: 1,
    groups: { Web: [0] },
    orchestratorEnv: { ARTIFACT_UPLOAD_IDLE_SECONDS: String(IDLE_SECONDS), TRIGGER_CONCURRENT_FIRES: '3' },
  });
  api = h.orchestrator.apiUrl;
}, 240_000);

afterAll(async () => {
  await h?.close();
});

/** The orchestrator's spool folders of uploads in flight (it runs on this machine, as the test user). */
const before = new Set(readdirSync(os.tmpdir()));
const spoolDirs = () =>
  readdirSync(os.tmpdir())
    .filter((d) => d.startsWith('opsc-orchestrator-upload-') && !before.has(d))
    .map((d) => path.join(os.tmpdir(), d));

/** An upload whose body trickles in (a few bytes every 200 ms) until `finish`, or stops at `stall`. */
const trickle = (token: string, name: string) => {
  const sent: Buffer[] = [];
  let settled = false;
  const req = http.request(`${api}/api/artifacts?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
  });
  const answer = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        settled = true;
        recordAnswer(`${api}/api/artifacts`, text);
        resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> });
      });
    });
    req.on('error', (err) => {
      settled = true;
      reject(err);
    });
  });
  const send = () => {
    const bytes = randomBytes(16);
    sent.push(bytes);
    req.write(bytes);
  };
  send();
  const timer = setInterval(send, 200);
  return {
    answer,
    settled: () => settled,
    sha256: () => createHash('sha256').update(Buffer.concat(sent)).digest('hex'),
    finish: () => {
      clearInterval(timer);
      req.end();
    },
    stall: () => clearInterval(timer),
    abort: () => {
      clearInterval(timer);
      req.destroy();
    },
  };
};

describe('slow uploads', () => {
  it('hold no database connection: sign-in and the job list answer while 12 uploads trickle in', async () => {
    const users = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        h.stack.createUser('operator', { username: `slow-${i}`, password: PASSWORD }),
      ),
    );
    const uploads = users.flatMap((u, i) => [trickle(u.token, `slow/${i}-a.bin`), trickle(u.token, `slow/${i}-b.bin`)]);
    try {
      // The API spools all 12 (a private folder each, the body file 0600) and holds no connection.
      const spools = await eventually(
        async () => {
          const dirs = spoolDirs();
          return dirs.length >= 12 && dirs.every((d) => existsSync(path.join(d, 'body'))) ? dirs : undefined;
        },
        30_000,
        'the 12 uploads to be spooled',
      );
      for (const dir of spools) {
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        expect(statSync(path.join(dir, 'body')).mode & 0o777).toBe(0o600);
      }
      // Each user's third upload is refused while their two are in flight.
      for (const u of users) {
        const third = await eventually(
          async () => {
            const res = await postArtifact(api, u.token, 'slow/third.bin', 'x');
            return res.status === 429 ? res : undefined;
          },
          30_000,
          `the third upload of ${u.username} to be refused`,
        );
        expect((third.body.error as { message: string }).message).toMatch(/2 uploads/);
      }
      const login = await requestJson(`${api}/api/auth/login`, {
        body: { tenant: 'acme', username: users[0]!.username, password: PASSWORD },
        timeoutMs: 5_000,
      });
      expect(login.status).toBe(200);
      const jobs = await requestJson(`${api}/api/jobs`, { token: h.admin.token, timeoutMs: 5_000 });
      expect(jobs.status).toBe(200);
      expect(uploads.filter((u) => u.settled())).toEqual([]);
    } finally {
      for (const u of uploads) u.finish();
    }
    for (const u of uploads) {
      const res = await u.answer;
      expect(res.status).toBe(201);
      expect((res.body.artifact as { sha256: string }).sha256).toBe(u.sha256());
    }
    // Every spool folder is gone once its upload is stored.
    expect(spoolDirs()).toEqual([]);
  }, 120_000);

  it('end a stalled upload with 408 and store nothing of it', async () => {
    const user = await h.stack.createUser('operator', { username: 'stalled' });
    const upload = trickle(user.token, 'stalled.bin');
    upload.stall();
    const res = await upload.answer.finally(() => upload.abort());
    expect(res.status).toBe(408);
    expect((res.body.error as { message: string }).message).toContain(`${IDLE_SECONDS} s`);
    const { rows } = await h.stack.pool.query("SELECT 1 FROM artifacts WHERE name = 'stalled.bin'");
    expect(rows).toEqual([]);
    expect(spoolDirs()).toEqual([]);
    const orphans = await h.stack.pool.query(
      'SELECT 1 FROM artifact_chunks c WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.id = c.artifact_id)',
    );
    expect(orphans.rows).toEqual([]);
    // The user's slot is free again.
    expect((await postArtifact(api, user.token, 'after-stall.bin', 'ok')).status).toBe(201);
  }, 60_000);
});

describe('a burst of trigger deliveries', () => {
  it('to 12 triggers at once all end (accepted or refused for retry), and the API still answers', async () => {
    const olga = await h.stack.createUser('operator', { username: 'olga-burst' });
    const created = await requestJson<TemplateDetail>(`${api}/api/templates`, {
      token: olga.token,
      body: {
        name: 'Restart for the burst',
        draft: {
          name: 'Restart a service',
          steps: [{ id: 'restart', tool: 'service-restart', params: { service: 'nginx' }, targets: { group: 'Web' } }],
        },
        parameters: [{ name: 'service', binds: [{ step: 'restart', param: 'service' }] }],
      },
    });
    expect(created.status).toBe(201);
    const triggers: TriggerWithSecret[] = [];
    for (let i = 0; i < 12; i += 1) {
      // The answer holds the secret, shown once: read without the suite's answer log.
      const res = await fetch(`${api}/api/triggers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `burst ${i}`,
          templateId: created.body.id,
          kind: 'generic',
          mapping: { service: { from: '$.service' } },
        }),
      });
      expect(res.status).toBe(201);
      const answer = (await res.json()) as TriggerWithSecret;
      registerTestSecrets(`trigger secret burst ${i}`, [answer.secret]);
      triggers.push(answer);
    }
    const deliver = async (t: TriggerWithSecret) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const body = JSON.stringify({ service: 'cron', nonce: randomUUID() });
      const signature = `sha256=${createHmac('sha256', t.secret).update(`${timestamp}.${body}`).digest('hex')}`;
      return requestJson<{ outcome?: string; jobId?: string }>(`${api}/api/hooks/${t.trigger.id}`, {
        rawBody: body,
        headers: { 'x-opsc-timestamp': timestamp, 'x-opsc-signature': signature },
        timeoutMs: 60_000,
      });
    };
    const answers = await Promise.all(triggers.map(deliver));
    for (const a of answers) expect([202, 429, 503], JSON.stringify(a.body)).toContain(a.status);
    expect(answers.filter((a) => a.status === 202).length).toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status === 202)) expect(a.body.outcome).toBe('accepted');
    const jobs = await requestJson(`${api}/api/jobs`, { token: h.admin.token, timeoutMs: 5_000 });
    expect(jobs.status).toBe(200);
    const { rows } = await h.stack.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM trigger_deliveries WHERE outcome = 'pending'",
    );
    expect(rows[0]?.n).toBe(0);
  }, 180_000);
});
