import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadArtifact } from '../support/artifacts.js';
import { startThrottleProxy, type ThrottleProxy } from '../support/throttle-proxy.js';
import { expectUploadReports, progressLines } from '../support/transfer-progress.js';
import { until } from '../support/web.js';
import { startWinrmHarness, type WinrmHarness } from '../support/winrm-harness.js';

// A file copy over WinRM reports the artifact's bytes sent as it goes, on the output stream
// `progress`, a few times a second. The WS-Management endpoint is reached through a link the test
// slows to 1 MB/s (base64 makes 3 MB about 4 MB on the wire), so the upload lasts seconds.
const RATE = 1_000_000;
const big = randomBytes(3_000_000);
const sha256 = createHash('sha256').update(big).digest('hex');

let h: WinrmHarness;
let proxy: ThrottleProxy;

beforeAll(async () => {
  h = await startWinrmHarness('copy-progress-winrm', { size: 1, firstOctet: 70 });
  const host = h.fleet.hosts[0]!;
  proxy = await startThrottleProxy(host.address, host.httpPort, RATE);
  h.base.onClose(() => proxy.close());
  await h.stack.pool.query(`UPDATE target_services SET port = $1 WHERE target_id = $2 AND protocol = 'winrm'`, [
    proxy.port,
    h.targetIds[0],
  ]);
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'big.bin', big);
}, 180_000);

afterAll(async () => {
  await h?.close();
});

describe('copy progress over WinRM', () => {
  it('reports increasing artifact bytes sent a few times a second while the upload runs, then a final report', async () => {
    let finishedAt = 0;
    const copy = h
      .run(0, { op: 'file-copy', source: 'big.bin', sha256, destination: 'C:\\Data\\big.bin' }, { stepId: 'copy' })
      .then((out) => ((finishedAt = Date.now()), out));
    await until(
      async () => ((await progressLines(h.stack.pool, h.jobId, 'copy')).length >= 3 ? true : undefined),
      'three progress reports',
    );
    expect(finishedAt, 'reports seen while the copy still ran').toBe(0);
    const out = await copy;
    expect(out.exitCode).toBe(0);
    expect(out.facts).toMatchObject({ sha256, bytes: String(big.length) });

    const rows = await progressLines(h.stack.pool, h.jobId, 'copy');
    expectUploadReports(rows, big.length);
  }, 120_000);
});
