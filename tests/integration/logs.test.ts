import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { eventually, waitForJob } from '../support/api.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { readSecrets } from '../support/secret-scan.js';
import { createTestStack, type TestStack } from '../support/stack.js';

type Line = Record<string, unknown>;

/** Every line of a service's log in the run's log folder, each parsed (a line that is not JSON fails). */
const linesOf = async (stack: TestStack, name: 'orchestrator' | 'executor'): Promise<Line[]> => {
  const text = await readFile(path.join(inject('logDir'), `${stack.namespace}-${name}.log`), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as Line;
      } catch {
        throw new Error(`${name} wrote a line that is not JSON: ${line.slice(0, 200)}`);
      }
    });
};

const hasCommonKeys = (line: Line, service: string) =>
  typeof line.at === 'string' &&
  !Number.isNaN(Date.parse(line.at)) &&
  ['debug', 'info', 'warn', 'error'].includes(String(line.level)) &&
  line.service === service &&
  typeof line.msg === 'string';

describe('service logs', () => {
  let stack: TestStack;
  let apiUrl: string;
  let operator: { token: string; tenantId: string };
  // Secrets sent where a careless log line would keep them: a query string, a request id, a token.
  const planted = {
    query: `qs-${randomBytes(12).toString('hex')}`,
    requestId: `rid-${randomBytes(12).toString('hex')}`,
    token: `tok-${randomBytes(16).toString('hex')}`,
  };

  beforeAll(async () => {
    registerTestSecrets('the logs test', Object.values(planted));
    stack = await createTestStack('logs');
    // Everything the services write: their own debug lines and the Temporal SDK's info lines.
    const env = { LOG_LEVEL: 'debug', TEMPORAL_LOG_LEVEL: 'info' };
    [{ apiUrl }] = await Promise.all([stack.startOrchestrator(env), stack.startExecutor(env)]);
    operator = await stack.createUser('operator');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('are JSON lines with common keys, correlated by request, job and activity, and hold no secret', async () => {
    const requestId = `it-logs-${randomBytes(4).toString('hex')}`;
    const res = await fetch(`${apiUrl}/api/jobs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${operator.token}`,
        'x-request-id': requestId,
      },
      body: JSON.stringify({
        plan: {
          name: 'log me',
          steps: [
            { id: 'hello', name: 'Say hello', action: { method: 'local-command', command: 'echo', args: ['hi'] } },
          ],
        },
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const jobId = ((await res.json()) as { id: string }).id;
    expect((await waitForJob(apiUrl, operator.token, jobId)).status).toBe('completed');

    // A request id that is not tame is replaced; a query string and a bad token stay out of the logs.
    const odd = await fetch(`${apiUrl}/api/jobs?password=${planted.query}`, {
      headers: { authorization: `Bearer ${planted.token}`, 'x-request-id': `${planted.requestId}/../x` },
    });
    expect(odd.status).toBe(401);
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // (fetch, not requestJson: the run's record of answers keeps each URL, and this one holds the secret)
    const listed = await fetch(`${apiUrl}/api/jobs?token=${planted.query}`, {
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(await listed.text()).not.toContain(planted.query);

    // The orchestrator: one access line per request, its id and tenant on it; no path ids, no query.
    const orchestrator = await eventually(
      async () => {
        const lines = await linesOf(stack, 'orchestrator');
        return lines.some((l) => l.msg === 'request' && l.status === 401) &&
          lines.some((l) => l.msg === 'activity ended' && l.jobId === jobId)
          ? lines
          : undefined;
      },
      30_000,
      "the orchestrator's lines for the job",
    );
    for (const line of orchestrator) expect(hasCommonKeys(line, 'orchestrator'), JSON.stringify(line)).toBe(true);
    const access = orchestrator.filter((l) => l.msg === 'request');
    expect(access.find((l) => l.requestId === requestId)).toMatchObject({
      tenantId: operator.tenantId,
      method: 'POST',
      route: '/api/jobs',
      status: 201,
      ms: expect.any(Number),
    });
    expect(access.some((l) => l.route === '/api/jobs/:id' && l.tenantId === operator.tenantId)).toBe(true);
    const refused = access.find((l) => l.status === 401);
    // Refused before any route matched: no pattern to name.
    expect(refused).toMatchObject({ method: 'GET', route: '(unmatched)', requestId: odd.headers.get('x-request-id') });
    expect(refused).not.toHaveProperty('tenantId');
    for (const line of access) {
      expect(line.requestId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
      expect(String(line.route)).not.toMatch(/[?]|job-[0-9a-f]/);
    }
    // Its workflow worker's activities (bookkeeping) carry the workflow, run, activity and attempt.
    const bookkeeping = orchestrator.filter((l) => l.msg === 'activity ended' && l.jobId === jobId);
    expect(bookkeeping.length).toBeGreaterThan(0);
    for (const line of bookkeeping)
      expect(line).toMatchObject({
        workflowId: expect.any(String),
        runId: expect.any(String),
        activityId: expect.any(String),
        attempt: expect.any(Number),
      });
    // The Temporal SDK's lines come through the same logger.
    expect(orchestrator.some((l) => typeof l.sdkComponent === 'string')).toBe(true);

    // The executor: the step's activity lines carry the job, step and target besides the ids.
    const executor = await eventually(
      async () => {
        const lines = await linesOf(stack, 'executor');
        return lines.some((l) => l.msg === 'activity ended' && l.jobId === jobId && l.step === 'hello')
          ? lines
          : undefined;
      },
      30_000,
      "the executor's lines for the job",
    );
    for (const line of executor) expect(hasCommonKeys(line, 'executor-worker'), JSON.stringify(line)).toBe(true);
    const step = executor.find((l) => l.msg === 'activity ended' && l.jobId === jobId && l.step === 'hello');
    expect(step).toMatchObject({
      workflowId: expect.stringContaining(jobId),
      runId: expect.any(String),
      activityId: expect.any(String),
      attempt: 1,
      target: 'executor',
      activityType: 'runLocalCommand',
      outcome: 'completed',
    });
    const sdk = executor.filter((l) => typeof l.sdkComponent === 'string');
    expect(sdk.some((l) => l.msg === 'Worker state changed')).toBe(true);
    // Core's module path is its own key: `target` is the job's target.
    for (const line of sdk.filter((l) => l.sdkComponent === 'core')) expect(line).toHaveProperty('coreTarget');

    // No planted secret, and none of the stack's (role passwords, vault key, trigger key), in either log.
    const secrets = (await readSecrets(inject('secretsFile'))).map((s) => s.secret);
    expect(secrets.length).toBeGreaterThan(3);
    const text = JSON.stringify([orchestrator, executor]);
    for (const secret of secrets) expect(text.includes(secret), 'a registered secret is in a log').toBe(false);
  });
});
