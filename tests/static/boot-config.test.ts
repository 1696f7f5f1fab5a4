import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXECUTOR_MAIN, ORCHESTRATOR_MAIN, startService } from '@opsc/dev';

const boot = async (script: string, env: Record<string, string>) => {
  const lines: string[] = [];
  const service = startService({
    name: 'boot',
    script,
    env: { PATH: process.env.PATH ?? '', ...env },
    onLine: (l) => lines.push(l),
  });
  const timer = setTimeout(() => service.kill('SIGKILL'), 20_000);
  const { code } = await service.exited;
  clearTimeout(timer);
  return { code, output: lines.join('\n') };
};

describe('configuration is checked at boot', () => {
  it('stops the orchestrator, naming each bad variable', async () => {
    const { code, output } = await boot(ORCHESTRATOR_MAIN, { API_PORT: 'http', JOB_HEARTBEAT_TIMEOUT_SECONDS: '0' });
    expect(code).toBe(1);
    expect(output).toContain('invalid orchestrator configuration');
    expect(output).toMatch(/DATABASE_URL/);
    expect(output).toMatch(/API_PORT/);
    expect(output).toMatch(/JOB_HEARTBEAT_TIMEOUT_SECONDS/);
  });

  it('stops the orchestrator on a broken tool file, naming the file, the line and the field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-tools-'));
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(
      file,
      "name: broken-tool\ndescription: A tool with a mistake in it.\nsummary: 'Broken'\nrisk: sometimes\ntypicalDurationSeconds: 1\nexecution:\n  executor: { method: http, url: 'http://127.0.0.1/' }\n",
    );
    const { code, output } = await boot(ORCHESTRATOR_MAIN, {
      DATABASE_URL: 'postgres://127.0.0.1:1/none',
      OPSC_TOOLS_DIRS: dir,
    });
    expect(code).toBe(1);
    expect(output).toContain(`tool catalog: ${file}:4: risk: `);
  });

  it('stops the executor, naming each bad variable', async () => {
    const { code, output } = await boot(EXECUTOR_MAIN, {
      DATABASE_URL: 'postgres://x/y',
      EXECUTOR_RESULT_CAP_BYTES: '-1',
    });
    expect(code).toBe(1);
    expect(output).toContain('invalid executor configuration');
    expect(output).toMatch(/EXECUTOR_RESULT_CAP_BYTES/);
  });
});
