import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { REPO_ROOT } from '@opsc/dev';
import { createToolAvailability } from '@opsc/orchestrator/jobs';
import { BUILTIN_TOOLS_DIR, loadCatalog } from '@opsc/planning';
import { eventually, requestJson } from '../support/api.js';
import { createTestStack, type RunningExecutor, type TestStack } from '../support/stack.js';

interface Tools {
  tools: { name: string }[];
  unavailable: { name: string; reason: string }[];
}
interface ApiError {
  error: { issues: { path: string; message: string }[] };
}

/** A PATH folder holding only these programs (links to the host's), readable by the sandbox user. */
const pathWith = (dir: string, programs: Record<string, string>): string => {
  chmodSync(dir, 0o755);
  for (const [name, target] of Object.entries(programs)) symlinkSync(target, path.join(dir, name));
  return dir;
};

/**
 * Issue 19, the first ten minutes: `traceroute` failed with ENOENT because nothing installed it.
 * Each executor now reports which allowed programs it can run; a tool whose program no executor
 * can run is not offered, and saying why replaces the ENOENT.
 */
describe('tools whose program no executor can run', () => {
  let stack: TestStack;
  let apiUrl: string;
  let bare: RunningExecutor;
  let operator: { token: string };
  const scratch = mkdtempSync(path.join(REPO_ROOT, 'test-results', 'local-path-'));
  chmodSync(scratch, 0o755);

  beforeAll(async () => {
    stack = await createTestStack('local-programs');
    ({ apiUrl } = await stack.startOrchestrator());
    // An executor whose PATH has the sandbox and a few programs, none of the network diagnostics.
    const bin = pathWith(mkdtempSync(path.join(scratch, 'bare-')), {
      bwrap: '/usr/bin/bwrap',
      true: '/bin/true',
      echo: '/bin/echo',
      date: '/bin/date',
    });
    bare = await stack.startExecutor({ EXECUTOR_LOCAL_PATH: bin });
    operator = await stack.createUser('operator');
  });

  afterAll(async () => {
    await stack?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const tools = async () => (await requestJson<Tools>(`${apiUrl}/api/tools`, { token: operator.token })).body;

  it('hides them from the catalog with the reason, and the executor says so on /health', async () => {
    const listed = await eventually(
      async () => {
        const t = await tools();
        return t.unavailable.some((u) => u.name === 'traceroute') ? t : undefined;
      },
      60_000,
      'traceroute reported unavailable',
    );
    expect(listed.unavailable).toEqual(
      expect.arrayContaining([
        {
          name: 'traceroute',
          reason: 'traceroute is not installed on the executor (Debian: apt-get install traceroute)',
        },
        { name: 'ping', reason: 'ping is not installed on the executor (Debian: apt-get install iputils-ping)' },
      ]),
    );
    expect(listed.tools.map((t) => t.name)).not.toContain('traceroute');
    expect(listed.tools.map((t) => t.name)).toContain('service-status');
    const health = await requestJson<{ checks: { localPrograms: { ok: boolean; error: string } } }>(
      `${bare.healthUrl}/health`,
    );
    expect(health.status, JSON.stringify(health.body)).toBe(200);
    expect(health.body.checks.localPrograms.ok).toBe(false);
    expect(health.body.checks.localPrograms.error).toMatch(/traceroute: traceroute is not installed/);
  }, 90_000);

  it('answers a request for one with why, and refuses a plan naming one, by field', async () => {
    const planned = await requestJson<{ status: string; text: string }>(`${apiUrl}/api/plans`, {
      token: operator.token,
      body: { request: 'traceroute to example.org' },
    });
    expect(planned.status).toBe(200);
    expect(planned.body.text).toContain('traceroute is not available: traceroute is not installed on the executor');

    const draft = {
      name: 'trace',
      steps: [{ id: 't', name: 'Trace', tool: 'traceroute', params: { host: 'example.org' } }],
    };
    const refused = await requestJson<ApiError>(`${apiUrl}/api/jobs`, { token: operator.token, body: { draft } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.issues).toEqual([
      {
        path: 'draft.steps.0.tool',
        message:
          'traceroute is not available: traceroute is not installed on the executor (Debian: apt-get install traceroute)',
      },
    ]);
  });

  it("takes no word on local programs from another pool's executors, which never run them", async () => {
    const bin = pathWith(mkdtempSync(path.join(scratch, 'dmz-')), {
      bwrap: '/usr/bin/bwrap',
      true: '/bin/true',
      traceroute: '/bin/echo',
    });
    const dmz = await stack.startExecutor({
      EXECUTOR_LOCAL_PATH: bin,
      EXECUTOR_POOL: 'dmz',
      EXECUTOR_POOL_TENANTS: 'acme',
    });
    await eventually(
      async () => {
        const { rows } = await stack.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM executor_programs WHERE pool = 'dmz' AND (programs->'traceroute'->>'ok')::boolean",
        );
        return rows[0]!.n > 0 ? true : undefined;
      },
      60_000,
      "the dmz executor's report",
    );
    const orchestratorDb = new pg.Pool({ connectionString: stack.roleUrls.orchestrator, max: 1 });
    const availability = createToolAvailability(
      orchestratorDb,
      await loadCatalog([BUILTIN_TOOLS_DIR]),
      (err) => {
        throw err;
      },
      3_600_000,
    );
    await availability.refresh();
    availability.stop();
    await orchestratorDb.end();
    expect(availability.catalog().unavailable('traceroute')).toMatch(/^traceroute is not installed on the executor/);
    await dmz.service.stop();
  }, 90_000);

  it('offers a tool again as soon as one executor can run it', async () => {
    // A second executor whose traceroute is there (a stand-in program: nothing runs it here).
    const bin = pathWith(mkdtempSync(path.join(scratch, 'full-')), {
      bwrap: '/usr/bin/bwrap',
      true: '/bin/true',
      traceroute: '/bin/echo',
    });
    const second = await stack.startExecutor({ EXECUTOR_LOCAL_PATH: bin });
    const listed = await eventually(
      async () => {
        const t = await tools();
        return t.tools.some((x) => x.name === 'traceroute') ? t : undefined;
      },
      60_000,
      'traceroute offered again',
    );
    expect(listed.unavailable.map((u) => u.name)).not.toContain('traceroute');
    expect(listed.unavailable.map((u) => u.name)).toContain('ping');
    await second.service.stop();
  }, 90_000);
});
