import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAnswer } from '../support/api.js';
import { createTestStack, type TestStack } from '../support/stack.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One GET, or null while nothing listens. */
const get = async (url: string, token?: string): Promise<Answer | null> => {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(5_000),
      ...(token && { headers: { authorization: `Bearer ${token}` } }),
    });
    const text = await res.text();
    recordAnswer(url, text);
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return null;
    throw err;
  }
};

/**
 * An orchestrator answers as soon as it listens, long before its workflow worker has bundled the
 * workflow code: health says it is starting and what it waits for, other routes say 503 until ready.
 */
describe('an orchestrator that is starting', () => {
  let stack: TestStack;
  let token: string;

  beforeAll(async () => {
    stack = await createTestStack('orch-start');
    ({ token } = await stack.createUser('operator'));
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers health with 503 "starting" while its worker gets ready, other routes with 503, then 200', async () => {
    const { apiUrl, service } = await stack.spawnOrchestrator();
    const starting: { health: Answer; jobs: Answer }[] = [];
    let healthy: Answer | undefined;
    const deadline = Date.now() + 90_000;
    while (!healthy && Date.now() < deadline) {
      expect(service.child.exitCode, 'the orchestrator exited').toBeNull();
      // Jobs first, health second: if health still says starting, the orchestrator was starting when jobs answered.
      const jobs = await get(`${apiUrl}/api/jobs`, token);
      const health = await get(`${apiUrl}/api/health`);
      if (health?.status === 200) healthy = health;
      else if (health && jobs) starting.push({ health, jobs });
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(healthy?.body).toMatchObject({ status: 'ok', checks: { temporal: { ok: true }, postgres: { ok: true } } });
    expect(starting.length).toBeGreaterThan(0);
    for (const { health, jobs } of starting) {
      expect(health).toEqual({
        status: 503,
        body: {
          status: 'starting',
          waitingFor: expect.stringMatching(/^(Temporal|the workflow worker)/) as unknown,
          startingSeconds: expect.any(Number) as unknown,
        },
      });
      expect(jobs.status).toBe(503);
      expect(jobs.body).toEqual({
        error: {
          type: 'Unavailable',
          message: expect.stringMatching(
            /^the orchestrator is starting \(waiting for (Temporal|the workflow worker)/,
          ) as unknown,
        },
      });
    }
    expect(starting.map((s) => s.health.body.waitingFor)).toContain('the workflow worker (bundling the workflow code)');
    // Ready, the same route works.
    expect((await get(`${apiUrl}/api/jobs`, token))?.status).toBe(200);
  });
});
