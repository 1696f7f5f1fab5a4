import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgOutputLineSink } from '@opsc/activities/execution';
import { isFinalJobStatus } from '@opsc/contracts';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { HOSTILE_REQUESTS, type HostileRequest } from '../support/hostile-inputs.js';
import { openEventStream, type OpenEventStream } from '../support/sse.js';
import { createTestStack, type TestStack } from '../support/stack.js';

// The API's edge against a hostile browser or client: cross-site requests riding the session
// cookie, bodies that are not JSON, text PostgreSQL refuses, absurd shapes, and a flood of live
// event streams. Only the orchestrator runs here: the jobs wait for approval and never execute.
const PASSWORD = 'a long edge password 1';
const WEB = 'http://127.0.0.1:3000';
const CONFIGURED = 'https://ops.example.test';
const FOREIGN = 'https://evil.example.test';
const PER_USER = 150;
const TOTAL = 180;
/** How often the API polls output_lines and asks a job's progress, by its documentation. */
const LINE_POLL_MS = 250;
const PROGRESS_EVERY_MS = 1_000;

let stack: TestStack;
let api: string;
let admin: { token: string; username: string };
let globex: { token: string };
let cookie: string;

interface Job {
  id: string;
  planHash: string;
}

/** A job that waits for approval: nothing runs, so it stays put while it is attacked. */
const waitingJob = async (token: string, name: string): Promise<Job> => {
  const plan = {
    name,
    steps: [{ id: 'hi', name: 'Say hi', action: { method: 'local-command', command: 'echo', args: ['hi'] } }],
    policies: { approvalRequired: true },
  };
  const created = await requestJson<Job>(`${api}/api/jobs`, { token, body: { plan } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await waitForJob(api, token, created.body.id, (j) => j.status === 'awaiting_approval', 30_000);
  return created.body;
};

const statusOf = async (id: string): Promise<string> =>
  (await requestJson<{ status: string }>(`${api}/api/jobs/${id}`, { token: admin.token })).body.status;

/** A mutation as a browser signed in with the session cookie would send it. */
const withCookie = (path: string, headers: Record<string, string>, body = '{}') =>
  fetch(`${api}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body });

interface StreamStats {
  open: number;
  jobs: number;
  lineReads: number;
  progressQueries: number;
}
const streamStats = async (): Promise<StreamStats> =>
  (await requestJson<{ streams: StreamStats }>(`${api}/api/health`)).body.streams;

beforeAll(async () => {
  stack = await createTestStack('security-edge');
  ({ apiUrl: api } = await stack.startOrchestrator({
    API_ALLOWED_ORIGINS: `${WEB},${CONFIGURED}`,
    API_EVENT_STREAMS_PER_USER: String(PER_USER),
    API_EVENT_STREAMS_MAX: String(TOTAL),
  }));
  admin = await stack.createUser('admin', { tenant: 'acme', username: 'edge-admin', password: PASSWORD });
  globex = await stack.createUser('admin', { tenant: 'globex', username: 'globex-admin' });
  const login = await fetch(`${api}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'acme', username: admin.username, password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  expect(cookie).toMatch(/^opsc_session=/);
}, 240_000);

afterAll(async () => {
  await stack?.close();
});

describe('cross-site requests with the session cookie', () => {
  it('refuses the form-encoded cancel from a foreign origin that used to cancel a job; the job still waits', async () => {
    const job = await waitingJob(admin.token, 'csrf target');
    const form = await fetch(`${api}/api/jobs/${job.id}/cancel`, {
      method: 'POST',
      headers: { cookie, origin: FOREIGN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mode=interrupt',
    });
    expect(form.status).toBe(403);
    const { error } = (await form.json()) as { error: { type: string; message: string } };
    expect(error.type).toBe('Forbidden');
    expect(error.message).toContain(FOREIGN);
    // JSON from the foreign origin, no origin at all, an opaque one, or a browser that says cross-site: all refused.
    const refused = await Promise.all([
      withCookie(`/api/jobs/${job.id}/cancel`, { origin: FOREIGN }),
      withCookie(`/api/jobs/${job.id}/cancel`, {}),
      withCookie(`/api/jobs/${job.id}/cancel`, { origin: 'null' }),
      withCookie(`/api/jobs/${job.id}/cancel`, { 'sec-fetch-site': 'cross-site' }),
      withCookie(
        `/api/jobs/${job.id}/approve`,
        { origin: `${WEB}.evil.example.test` },
        JSON.stringify({ planHash: job.planHash }),
      ),
      withCookie('/api/auth/logout', { origin: FOREIGN }),
    ]);
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect(await statusOf(job.id)).toBe('awaiting_approval');
    // The session was not signed out by the foreign logout either.
    expect((await requestJson(`${api}/api/auth/me`, { headers: { cookie } })).status).toBe(200);
  });

  it("lets the web app's origin, a configured one and the API's own change things with the cookie", async () => {
    const created = await Promise.all(
      (
        [{ origin: WEB }, { origin: CONFIGURED }, { origin: api }, { 'sec-fetch-site': 'same-origin' }] as Record<
          string,
          string
        >[]
      ).map((headers, i) => withCookie('/api/tokens', headers, JSON.stringify({ name: `browser-${i}` }))),
    );
    expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    // The configured list replaces the default one.
    expect(
      (await withCookie('/api/tokens', { origin: 'http://localhost:3000' }, JSON.stringify({ name: 'default' })))
        .status,
    ).toBe(403);

    const job = await waitingJob(admin.token, 'cancelled from the web app');
    const cancel = await withCookie(
      `/api/jobs/${job.id}/cancel`,
      { origin: WEB },
      JSON.stringify({ comment: 'not today' }),
    );
    expect(cancel.status).toBe(200);
    await waitForJob(api, admin.token, job.id, (j) => isFinalJobStatus(j.status), 30_000);
    expect(await statusOf(job.id)).toBe('cancelled');
  });

  it('leaves API tokens alone: a token mutation needs no Origin, and a foreign one does not matter', async () => {
    const job = await waitingJob(admin.token, 'cancelled by a script');
    const cancel = await requestJson(`${api}/api/jobs/${job.id}/cancel`, {
      token: admin.token,
      body: { comment: 'from cron' },
    });
    expect(cancel.status).toBe(200);
    expect(
      (
        await requestJson(`${api}/api/tokens`, {
          token: admin.token,
          body: { name: 'script' },
          headers: { origin: FOREIGN },
        })
      ).status,
    ).toBe(201);
    await waitForJob(api, admin.token, job.id, (j) => isFinalJobStatus(j.status), 30_000);
    expect(await statusOf(job.id)).toBe('cancelled');
  });
});

describe('hostile input gets a 4xx naming the field, never a 500', () => {
  let job: Job;
  beforeAll(async () => {
    job = await waitingJob(admin.token, 'hostile input target');
    const target = await requestJson(`${api}/api/inventory/targets`, {
      token: admin.token,
      body: { name: 'web-01', address: '127.0.0.1', os: 'linux' },
    });
    expect(target.status).toBe(201);
  });

  const send = async (row: HostileRequest) => {
    const json = row.body === undefined ? undefined : JSON.stringify(row.body).replaceAll('{hash}', job.planHash);
    const res = await fetch(`${api}${row.path.replace('{job}', job.id)}`, {
      method: row.method,
      // A row that brings its own cookie is sent as a browser would, without a token.
      headers: {
        ...(!row.headers?.cookie && { authorization: `Bearer ${admin.token}` }),
        ...(json !== undefined && { 'content-type': 'application/json' }),
        ...row.headers,
      },
      ...((json ?? row.raw) !== undefined && { body: json ?? row.raw }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      text,
      body: JSON.parse(text) as {
        error?: { type: string; message: string; issues?: { path: string; message: string }[] };
      },
    };
  };

  it.each(HOSTILE_REQUESTS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const res = await send(row);
    expect(res.status, res.text.slice(0, 500)).toBe(row.status);
    if (row.type) expect(res.body.error?.type).toBe(row.type);
    if (row.field) expect(res.body.error?.issues?.map((i) => i.path)).toContain(row.field);
    if (row.status >= 400) expect(res.body.error?.message).toBeTruthy();
  });

  it('left the job it aimed at waiting, and its audit trail whole', async () => {
    expect(await statusOf(job.id)).toBe('awaiting_approval');
    const audit = await requestJson<{ entries: { action: string }[] }>(`${api}/api/audit?jobId=${job.id}`, {
      token: admin.token,
    });
    expect(audit.body.entries.map((e) => e.action)).toEqual(['job.submit']);
  });
});

describe('live event streams', () => {
  it('caps streams per user and per process, and 200 attempts on one job leave job reads served by one subscription per job', async () => {
    const [watched, theirs] = await Promise.all([
      waitingJob(admin.token, 'watched by many'),
      waitingJob(globex.token, 'watched next door'),
    ]);
    const open = (job: Job, token: string, n: number) =>
      Promise.all(Array.from({ length: n }, () => openEventStream(`${api}/api/jobs/${job.id}/events`, { token })));
    const streams: OpenEventStream[] = [];
    try {
      const mine = await open(watched, admin.token, 200);
      streams.push(...mine);
      expect(mine.filter((s) => s.status === 200)).toHaveLength(PER_USER);
      const refusedMine = mine.filter((s) => s.status !== 200);
      expect(new Set(refusedMine.map((s) => s.status))).toEqual(new Set([429]));
      expect(refusedMine[0]?.error).toMatchObject({
        type: 'RateLimited',
        message: expect.stringContaining(`${PER_USER} live event streams`) as unknown,
      });
      const next = await open(theirs, globex.token, 40);
      streams.push(...next);
      expect(next.filter((s) => s.status === 200)).toHaveLength(TOTAL - PER_USER);
      expect(next.find((s) => s.status !== 200)?.error).toMatchObject({
        type: 'RateLimited',
        message: expect.stringContaining(`${TOTAL} live event streams`) as unknown,
      });

      const live = streams.filter((s) => s.status === 200);
      await eventually(
        async () => (live.every((s) => s.events.some((e) => e.event === 'progress')) ? true : undefined),
        60_000,
        'a progress snapshot on every stream',
      );
      for (const s of live)
        expect(JSON.parse(s.events.find((e) => e.event === 'progress')!.data)).toMatchObject({
          status: 'awaiting_approval',
        });
      // Job reads keep their progress while the streams are open, in both tenants.
      for (const [job, token] of [
        [watched, admin.token],
        [theirs, globex.token],
      ] as const) {
        const read = await requestJson<{
          status: string;
          progress: { status: string } | null;
          progressError: string | null;
        }>(`${api}/api/jobs/${job.id}`, { token });
        expect(read.status).toBe(200);
        expect(read.body.progressError).toBeNull();
        expect(read.body.progress?.status).toBe('awaiting_approval');
      }
      // One subscription per job, not one per stream: output_lines is polled, and progress asked,
      // at most once per interval per job whatever the number of listeners.
      const started = Date.now();
      const before = await streamStats();
      expect(before).toMatchObject({ open: TOTAL, jobs: 2 });
      await eventually(
        async () => ((await streamStats()).lineReads - before.lineReads >= 24 ? true : undefined),
        60_000,
        'two dozen polls',
      );
      const after = await streamStats();
      const elapsed = Date.now() - started;
      expect(after.lineReads - before.lineReads).toBeLessThanOrEqual(2 * (Math.ceil(elapsed / LINE_POLL_MS) + 1));
      expect(after.progressQueries - before.progressQueries).toBeLessThanOrEqual(
        2 * (Math.ceil(elapsed / PROGRESS_EVERY_MS) + 1),
      );
    } finally {
      for (const s of streams) s.close();
    }
    // The last listener gone, each subscription stops, and the slots are free again.
    await eventually(
      async () => {
        const s = await streamStats();
        return s.open === 0 && s.jobs === 0 ? true : undefined;
      },
      30_000,
      'every stream and subscription to stop',
    );
    const again = await openEventStream(`${api}/api/jobs/${watched.id}/events`, { token: admin.token });
    expect(again.status).toBe(200);
    again.close();
  }, 180_000);

  it('fans one subscription out to every stream, each resuming exactly after its own Last-Event-ID', async () => {
    const job = await waitingJob(admin.token, 'chatty');
    const pool = new pg.Pool({ connectionString: stack.roleUrls.executor, max: 2 });
    const sink = createPgOutputLineSink(pool, { flushIntervalMs: 50 });
    const streams: OpenEventStream[] = [];
    let ahead: OpenEventStream | undefined;
    try {
      /** Lines `from`..`to` as the executor stores them, one batch per call. */
      const print = async (from: number, to: number) => {
        const out = sink.open({
          jobId: job.id,
          stepId: `talk-${from}`,
          targetId: 't-1',
          targetName: 'web-01',
          attempt: 1,
        });
        for (let i = from; i <= to; i++) out.writeText('stdout', `line ${i}`);
        await out.close();
      };
      const seqs = async () =>
        (
          await stack.pool.query<{ seq: string }>('SELECT seq FROM output_lines WHERE job_id = $1 ORDER BY seq', [
            job.id,
          ])
        ).rows.map((r) => r.seq);
      const url = `${api}/api/jobs/${job.id}/events`;
      const linesOf = (s: OpenEventStream) => s.events.filter((e) => e.event === 'log');
      const sawLine = (n: number) => async () =>
        streams.every((s) => linesOf(s).some((e) => (JSON.parse(e.data) as { line: string }).line === `line ${n}`))
          ? true
          : undefined;

      // A stream that claims to be far ahead opens first: it must not move where anyone else starts.
      ahead = await openEventStream(url, { token: admin.token, lastEventId: '999999999999999' });
      expect(ahead.status).toBe(200);
      await print(1, 40);
      const first40 = await seqs();
      expect(first40).toHaveLength(40);
      // Ten from the start, then streams that resume behind the subscription (they catch up from
      // PostgreSQL, then join it), and one level with it.
      streams.push(
        ...(await Promise.all(Array.from({ length: 10 }, () => openEventStream(url, { token: admin.token })))),
      );
      await eventually(sawLine(40), 30_000, 'the first forty lines on every stream');
      const cursors = [first40[9]!, first40[24]!, first40[24]!, first40[39]!];
      streams.push(
        ...(await Promise.all(cursors.map((lastEventId) => openEventStream(url, { token: admin.token, lastEventId })))),
      );
      expect(streams.map((s) => s.status)).toEqual(streams.map(() => 200));
      expect(await streamStats()).toMatchObject({ open: 15, jobs: 1 });

      await print(41, 80);
      await eventually(sawLine(80), 30_000, 'line 80 on every stream');
      await print(81, 90);
      expect((await requestJson(`${api}/api/jobs/${job.id}/cancel`, { token: admin.token, body: {} })).status).toBe(
        200,
      );
      await Promise.all([...streams, ahead].map((s) => s.ended));
      expect(ahead.events.filter((e) => e.event === 'log')).toEqual([]);
      expect(ahead.events.at(-1)?.event).toBe('end');

      const all = await seqs();
      expect(all).toHaveLength(90);
      const starts = [...Array.from({ length: 10 }, () => 0), 10, 25, 25, 40];
      streams.forEach((s, i) => {
        const expected = all.slice(starts[i]);
        expect(
          linesOf(s).map((e) => e.id),
          `stream ${i}`,
        ).toEqual(expected);
        expect(linesOf(s).map((e) => (JSON.parse(e.data) as { line: string }).line)).toEqual(
          expected.map((_, k) => `line ${starts[i]! + k + 1}`),
        );
        expect(s.events.at(-1)?.event).toBe('end');
        expect(JSON.parse(s.events.at(-1)!.data)).toEqual({ status: 'cancelled' });
      });
      await eventually(
        async () => ((await streamStats()).jobs === 0 ? true : undefined),
        15_000,
        'the subscription to stop',
      );
    } finally {
      for (const s of streams) s.close();
      ahead?.close();
      await sink.close(1_000);
      await pool.end();
    }
  }, 120_000);
});
