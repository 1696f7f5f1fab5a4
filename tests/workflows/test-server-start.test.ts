import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { startTimeSkipping } from './support/env.js';

// The SDK waits a fixed 5 s for the test server to answer; on a busy machine it can take longer, and
// the file's whole suite failed on CI that way. A server that misses its first start is started again.
describe('the time-skipping test server', () => {
  it('is started again when its first start misses the SDK deadline', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-slow-server-'));
    const firstStart = path.join(dir, 'first-start');
    const slow = path.join(dir, 'slow-test-server');
    // The first start answers only after 7 s (as on a saturated machine); the next ones at once.
    writeFileSync(
      slow,
      `#!/bin/sh\nif [ ! -e '${firstStart}' ]; then : > '${firstStart}'; sleep 7; fi\nexec '${inject('testServerPath')}' "$@"\n`,
    );
    chmodSync(slow, 0o755);
    const env = await startTimeSkipping(slow);
    try {
      expect(existsSync(firstStart)).toBe(true);
      expect(env.supportsTimeSkipping).toBe(true);
      const before = await env.currentTimeMs();
      await env.sleep('2h');
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(2 * 3_600_000);
    } finally {
      await env.teardown();
    }
  });
});
