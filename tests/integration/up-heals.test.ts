import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  EXECUTOR_MAIN,
  REPO_ROOT,
  RestartPolicy,
  startService,
  superviseService,
  waitForHttpOk,
  type ServiceProcess,
} from '@opsc/dev';
import { upEnv } from '../support/demo-process.js';
import { freePort } from '../support/free-port.js';
import { alive, waitForLine } from '../support/lines.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/**
 * `npm run up` heals: a service killed by PID comes back by itself (after a backoff) and answers
 * again, while the rest of the stack keeps running; SIGTERM still stops everything in order. It
 * runs the real `node dev/dist/up.js` against the suite's Temporal and a database of its own.
 */
describe('`npm run up` restarts a crashed service', () => {
  let stack: TestStack;
  let dataDir: string;
  let up: ServiceProcess | undefined;
  const lines: string[] = [];
  const pids = new Set<number>();

  beforeAll(async () => {
    stack = await createTestStack('up-heals');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'opsc-up-'));
  });

  afterAll(async () => {
    await up?.stop(20_000);
    // Had `up` not stopped its services, they are stopped here, by the PIDs it announced.
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('brings back a SIGKILLed executor and orchestrator, and stops everything on SIGTERM', async () => {
    const [apiPort, webPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    up = startService({
      name: 'up',
      script: path.join(REPO_ROOT, 'dev/dist/up.js'),
      env: upEnv(stack, dataDir, { api: apiPort, web: webPort, health: healthPort }),
      onLine: (line) => {
        lines.push(line);
        // Its output (the services' lines among it) goes to the run's logs, which the secret scan reads.
        appendFileSync(path.join(inject('logDir'), `${stack.namespace}-up.log`), `${line}\n`);
        const started = /^\[up\] \w+ (?:re)?started \(pid (\d+)\)$/.exec(line);
        if (started) pids.add(Number(started[1]));
      },
    });
    await waitForLine(lines, /^\[up\] ready in /, 150_000);
    // The one-screen summary: where everything is, and what is embedded and what came from the environment.
    await waitForLine(lines, /^\[up\] A crashed service restarts by itself; Ctrl-C stops everything\.$/, 10_000);
    const summary = lines.slice(lines.findIndex((l) => l.startsWith('[up] ready in ')));
    for (const pattern of [
      new RegExp(`^\\[up\\]   Web app +http://127\\.0\\.0\\.1:${webPort} `),
      new RegExp(`^\\[up\\]   API +http://127\\.0\\.0\\.1:${apiPort}/api `),
      /^\[up\]   Temporal +\S+ +namespace \S+ +\(from TEMPORAL_ADDRESS\)$/,
      new RegExp(`^\\[up\\]   Executor +http://127\\.0\\.0\\.1:${healthPort}/health `),
      /^\[up\]   PostgreSQL +(embedded on 127\.0\.0\.1:\d+|from DATABASE_URL)/,
      /^\[up\]   Planner +built-in /,
      new RegExp(
        `^\\[up\\]   Logs +the services print here, prefixed by name; data in ${dataDir.replaceAll('.', '\\.')} `,
      ),
    ])
      expect(
        summary.some((l) => pattern.test(l)),
        String(pattern),
      ).toBe(true);
    // The services' role passwords are the platform's secrets: nothing it writes may hold them.
    const roles = JSON.parse(await readFile(path.join(dataDir, 'service-roles.json'), 'utf8')) as Record<
      string,
      string
    >;
    registerTestSecrets('the service-role passwords of `npm run up`', Object.values(roles));
    const api = `http://127.0.0.1:${apiPort}/api/health`;
    const executorHealth = `http://127.0.0.1:${healthPort}/health`;

    const executorPid = Number((await waitForLine(lines, /^\[up\] executor started \(pid (\d+)\)$/))[1]);
    const mark = lines.length;
    process.kill(executorPid, 'SIGKILL');
    await waitForLine(lines, /^\[up\] executor killed by SIGKILL after [\d.]+ s; restarting in 1\.0 s$/, 30_000, mark);
    const newExecutorPid = Number(
      (await waitForLine(lines, /^\[up\] executor restarted \(pid (\d+)\)$/, 30_000, mark))[1],
    );
    expect(newExecutorPid).not.toBe(executorPid);
    await waitForHttpOk(executorHealth, 60_000);
    // The rest of the stack never went down.
    await waitForHttpOk(api, 1_000);

    const orchestratorPid = Number((await waitForLine(lines, /^\[up\] orchestrator started \(pid (\d+)\)$/))[1]);
    const mark2 = lines.length;
    process.kill(orchestratorPid, 'SIGKILL');
    await waitForLine(
      lines,
      /^\[up\] orchestrator killed by SIGKILL after [\d.]+ s; restarting in 1\.0 s$/,
      30_000,
      mark2,
    );
    await waitForLine(lines, /^\[up\] orchestrator restarted \(pid (\d+)\)$/, 30_000, mark2);
    await waitForHttpOk(api, 120_000);
    expect(up.child.exitCode).toBeNull();

    await up.stop(30_000);
    expect(await up.exited).toEqual({ code: 0, signal: null });
    expect(lines).toContain('[up] stopped');
    expect([...pids].filter(alive)).toEqual([]);
  });
});

describe('the supervisor of `npm run up`', () => {
  it('keeps restarting a service that crashes at start, saying once that it is a crash loop and why to look', async () => {
    const said: string[] = [];
    let gaveUp: string | undefined;
    const supervisor = superviseService({
      name: 'executor',
      // A configuration the executor refuses: it exits at once, every time.
      start: () =>
        startService({
          name: 'executor',
          script: EXECUTOR_MAIN,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DATABASE_URL: 'not-a-url' },
        }),
      policy: new RestartPolicy({ initialDelayMs: 100, maxDelayMs: 400, stableAfterMs: 60_000, crashLoopAfter: 3 }),
      say: (line) => said.push(line),
      onGiveUp: (reason) => {
        gaveUp = reason;
      },
    });
    // Past the crash loop's notice, it goes on restarting at the cap; the stack is not stopped.
    await expect
      .poll(() => said.filter((l) => /^executor restarted \(pid \d+\)$/.test(l)).length, {
        timeout: 30_000,
        interval: 100,
      })
      .toBeGreaterThanOrEqual(5);
    await supervisor.stop();
    expect(gaveUp).toBeUndefined();
    const waits = said.filter((l) => / restarting in /.test(l)).map((l) => /restarting in ([\d.]+ s)/.exec(l)?.[1]);
    expect(waits.slice(0, 5)).toEqual(['0.1 s', '0.2 s', '0.4 s', '0.4 s', '0.4 s']);
    const loops = said.filter((l) => /crash loop/.test(l));
    expect(loops).toEqual([
      'executor is in a crash loop: it crashed 3 times in a row soon after starting; restarting every 0.4 s until it stays up (its log lines above say why; Ctrl-C stops the stack)',
    ]);
    expect(alive(supervisor.current().pid)).toBe(false);
  });
});
