import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TAIL_LINES, startService, waitForHttpOk } from './service-process.js';

const script = (body: string): string => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'opsc-service-')), 'main.mjs');
  writeFileSync(file, body);
  return file;
};

describe('waitForHttpOk', () => {
  it('says how a service that dies at start ended, and its last lines', async () => {
    const lines = Array.from({ length: TAIL_LINES + 3 }, (_, i) => `console.log('line ${i}');`).join('\n');
    const service = startService({
      name: 'doomed',
      script: script(`${lines}\nconsole.error('listen EADDRINUSE: address already in use');\nprocess.exit(3);\n`),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    // Nothing listens on port 9 of loopback: only the exit can end the wait early.
    const failure = await waitForHttpOk('http://127.0.0.1:9/health', 30_000, service).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toMatch(/^doomed exited before http:\/\/127\.0\.0\.1:9\/health was healthy \(code 3\)/);
    expect(message).toContain('| listen EADDRINUSE: address already in use');
    // Only the last lines: the first ones are dropped.
    expect(message).not.toContain('| line 0\n');
    expect(message).toContain(`| line ${TAIL_LINES + 2}`);
    expect(service.tail()).toHaveLength(TAIL_LINES);
  });

  it('names the signal that killed it', async () => {
    const service = startService({
      name: 'killed',
      script: script(`console.log('up'); setInterval(() => {}, 1000);\n`),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    const waiting = waitForHttpOk('http://127.0.0.1:9/health', 30_000, service).catch((e: Error) => e);
    service.kill('SIGKILL');
    expect(((await waiting) as Error).message).toMatch(/\(signal SIGKILL\)/);
  });
});
