import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PlanProposal } from '@opsc/contracts';
import { REPO_ROOT, startService, type ServiceProcess } from '@opsc/dev';
import { requestJson } from '../support/api.js';
import { freePort } from '../support/free-port.js';
import { alive, waitForLine } from '../support/lines.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/**
 * `OPSC_LLM=local npm run up`: the real supervisor starts llama-server with the local model beside the
 * stack and points the orchestrator's planner at it; a request through the API is planned by the model,
 * and SIGTERM stops the model's server with everything else.
 */
describe('`OPSC_LLM=local npm run up`', () => {
  let stack: TestStack;
  let dataDir: string;
  let up: ServiceProcess | undefined;
  const lines: string[] = [];
  const pids = new Set<number>();

  beforeAll(async () => {
    stack = await createTestStack('up-llm');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'opsc-up-llm-'));
  });

  afterAll(async () => {
    await up?.stop(30_000);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('plans through the API with the local model, and stops it with the stack', async () => {
    const [apiPort, webPort, healthPort, llmPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    up = startService({
      name: 'up',
      script: path.join(REPO_ROOT, 'dev/dist/up.js'),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        OPSC_DATA_DIR: dataDir,
        OPSC_LLM: 'local',
        OPSC_LLM_PORT: String(llmPort),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: stack.namespace,
        DATABASE_URL: stack.databaseUrl,
        OPSC_VAULT_KEY_FILE: stack.vaultKeyFile,
        EXECUTOR_ARTIFACT_DIR: stack.artifactDir,
        API_PORT: String(apiPort),
        WEB_PORT: String(webPort),
        EXECUTOR_HEALTH_PORT: String(healthPort),
      },
      onLine: (line) => {
        lines.push(line);
        // Its output (the services' lines among it) goes to the run's logs, which the secret scan reads.
        appendFileSync(path.join(inject('logDir'), `${stack.namespace}-up.log`), `${line}\n`);
        const started = /^\[up\] \w+ (?:re)?started \(pid (\d+)\)/.exec(line);
        if (started) pids.add(Number(started[1]));
      },
    });
    const llmPid = Number((await waitForLine(lines, /^\[up\] llm started \(pid (\d+)\)/, 1_700_000))[1]);
    await waitForLine(lines, /^\[up\] ready in /, 180_000);
    // The summary's lines follow "ready in" as the child prints them: wait for the LLM's line itself.
    const summary = (await waitForLine(lines, /^\[up\] {3}Local LLM /, 10_000)).input;
    expect(summary).toBe(
      `[up]   Local LLM      http://127.0.0.1:${llmPort}/v1   model qwen2.5-coder-1.5b-instruct (the planner's; log: .data/logs/llm.log)`,
    );
    // The model's server answers only with the key the stack made for it.
    expect((await fetch(`http://127.0.0.1:${llmPort}/v1/models`)).status).toBe(401);

    const api = `http://127.0.0.1:${apiPort}`;
    const admin = await stack.createUser('admin');
    const operator = await stack.createUser('operator');
    const post = async (p: string, body: unknown) => {
      const res = await requestJson(`${api}${p}`, { token: admin.token, body });
      if (res.status !== 201) throw new Error(`${p}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    await post('/api/credentials', {
      name: 'ops',
      username: 'ops',
      secret: { kind: 'password', password: 'Up-Llm-Pa55-word' },
    });
    for (const [i, name] of ['web-1', 'web-2'].entries())
      await post('/api/inventory/targets', {
        name,
        address: `127.0.3.${i + 1}`,
        os: 'linux',
        services: [{ protocol: 'ssh', credential: 'ops' }],
      });
    await post('/api/inventory/groups', { name: 'Production Web', targets: ['web-1', 'web-2'] });

    const res = await requestJson<PlanProposal>(`${api}/api/plans`, {
      token: operator.token,
      body: { request: 'restart the nginx service on the Production Web group' },
      // The tenant's first plan reads the whole prompt: about a minute on 2 cores (PLANNER_TIMEOUT_SECONDS is 120).
      timeoutMs: 150_000,
    });
    expect(res.status).toBe(200);
    expect(res.body.fallbackReason).toBeUndefined();
    expect(res.body).toMatchObject({ planner: 'langchain', status: 'ready', summary: { approvalRequired: true } });
    expect(res.body.draft?.steps.find((s) => s.tool === 'service-restart')).toMatchObject({
      params: { service: 'nginx' },
      targets: { group: 'Production Web' },
    });

    await up.stop(30_000);
    expect(await up.exited).toEqual({ code: 0, signal: null });
    expect(alive(llmPid)).toBe(false);
    expect([...pids].filter(alive)).toEqual([]);
  });
});
