import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../support/api.js';
import { control, submitDraft } from '../support/rollout.js';
import type { RunningOrchestrator } from '../support/stack.js';
import { startWinrmHarness, type WinrmHarness } from '../support/winrm-harness.js';
import { uploadArtifact } from '../support/artifacts.js';

// The executor dies (SIGKILL, by PID) while a WinRM file copy's data is on the wire. The host's
// WinRM shell outlives its client, as on Windows: whatever that first attempt left running must
// neither hold the run marker nor wait for data that will never come. The retry on a new executor
// finishes the job well within one step timeout, installing the file once with one backup.
const SIZE = 2;
const STEP_TIMEOUT_SECONDS = 60;
const EXE = 'C:\\Program Files\\StationController\\stationcontroller.exe';
const OLD_EXE = Buffer.from('stationcontroller 1.0 (build 118)\n');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let h: WinrmHarness;
let api: RunningOrchestrator;
let operator: { token: string };
let approver: { token: string };
let newExe: Buffer;

beforeAll(async () => {
  h = await startWinrmHarness('windows-copy-crash', {
    size: SIZE,
    firstOctet: 170,
    host: () => ({
      services: [{ name: 'stationcontroller', image: 'stationcontroller.exe', path: EXE, status: 'Stopped' }],
      files: { [EXE]: OLD_EXE },
    }),
    groups: { Copy: [0, 1] },
  });
  // Large enough that its upload takes many Sends: the kill lands while data is still being sent.
  newExe = randomBytes(24 * 1024 * 1024);
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'stationcontroller-2.0.exe', newExe);
  // A short heartbeat timeout, so the dead executor's activity is retried within seconds.
  api = await h.stack.startOrchestrator({ JOB_HEARTBEAT_TIMEOUT_SECONDS: '4' });
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

/** Polls the simulated hosts (in this process) until a command is being sent data and has not had End. */
const whileDataIsSent = async (minBytes: number, timeoutMs: number): Promise<{ host: number; stdinBytes: number }> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (let i = 0; i < SIZE; i++) {
      const sending = h.fleet.commands(i).find((c) => !c.done && !c.stdinEnded && c.stdinBytes >= minBytes);
      if (sending) return { host: i, stdinBytes: sending.stdinBytes };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no host was being sent a file');
};

const files = async (i: number, dir: string) =>
  (await h.fleet.host(i).files.list(dir)).filter((e) => !e.directory).map((e) => path.win32.basename(e.path));

describe('a WinRM file copy outlives its executor', () => {
  it('finishes promptly after the executor is SIGKILLed mid-upload, installing the file once with one backup', async () => {
    const first = await h.stack.startExecutor();
    const created = await submitDraft(api.apiUrl, operator.token, {
      name: 'copy the new stationcontroller',
      steps: [
        {
          id: 'copy',
          tool: 'file-copy',
          params: { source: 'stationcontroller-2.0.exe', destination: EXE },
          targets: { group: 'Copy' },
          timeoutSeconds: STEP_TIMEOUT_SECONDS,
        },
      ],
      policies: { maxParallel: SIZE },
    });
    expect(
      (await control(api.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash })).status,
    ).toBe(200);

    const sending = await whileDataIsSent(2 * 1024 * 1024, 60_000);
    first.service.kill('SIGKILL');
    const killedAt = Date.now();
    await first.service.exited;
    // The first attempt is still on the host, its shell kept open with no client.
    expect(h.fleet.commands(sending.host).some((c) => !c.done)).toBe(true);

    const second = await h.stack.startExecutor();
    const job = await waitForJob(api.apiUrl, operator.token, created.id, undefined, (STEP_TIMEOUT_SECONDS * 1000) / 2);
    const recoveryMs = Date.now() - killedAt;
    console.log(
      `windows-copy-crash: killed with ${sending.stdinBytes} bytes sent to host ${sending.host}; job ${job.status} ${recoveryMs} ms after the kill`,
    );
    expect(job.status).toBe('completed');
    expect(recoveryMs).toBeLessThan((STEP_TIMEOUT_SECONDS * 1000) / 2);

    const results = job.results.filter((r) => r.stepId === 'copy');
    expect(results).toHaveLength(SIZE);
    for (let i = 0; i < SIZE; i++) {
      const host = h.fleet.host(i);
      const result = results.find((r) => r.target.name === h.fleet.hosts[i]?.name);
      expect(result, `host ${i}`).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect(sha256((await host.readFile(EXE)) ?? Buffer.alloc(0)), `host ${i}`).toBe(sha256(newExe));
      const backups = `C:\\ProgramData\\OpsConductor\\backups\\${created.id}\\copy`;
      expect(await files(i, backups), `host ${i}`).toEqual(['stationcontroller.exe']);
      expect(await host.readFile(`${backups}\\stationcontroller.exe`), `host ${i}`).toEqual(OLD_EXE);
      // One marker, written by the attempt that reported the change.
      const runs = `C:\\ProgramData\\OpsConductor\\runs\\${created.id}\\copy`;
      expect(
        (await files(i, runs)).filter((f) => f.endsWith('.json') || f.endsWith('.tmp')),
        `host ${i}`,
      ).toEqual([`${h.targetIds[i]}.json`]);
      const marker = JSON.parse(
        (await host.readFile(`${runs}\\${h.targetIds[i]}.json`))?.toString('utf8') ?? 'null',
      ) as { exitCode: number; attempt: number };
      expect(marker, `host ${i}`).toMatchObject({ exitCode: 0 });
      if (!/^already done by attempt/.test(result?.stdout ?? ''))
        expect(marker.attempt, `host ${i}`).toBe(result?.attempt);
    }
    await second.service.stop();
  }, 180_000);
});
