import { describe, expect, it } from 'vitest';
import { Action } from './plan.js';
import {
  describeStepFacts,
  describeTransfer,
  formatBytes,
  outcomeBytesOf,
  outcomeFactOf,
  parseTransferProgress,
  stepFactsOf,
  transferProgressLine,
} from './step-facts.js';
import type { ActionOutput } from './results.js';

const ssh = (operation: unknown) => Action.parse({ method: 'ssh', operation });
const winrm = (operation: unknown) => Action.parse({ method: 'winrm', operation });
const out = (facts: Record<string, string>, stdout = ''): ActionOutput => ({
  kind: 'command',
  exitCode: 0,
  signal: null,
  stdout,
  stderr: '',
  stdoutTruncated: false,
  stderrTruncated: false,
  durationMs: 10,
  facts,
});

describe('step facts', () => {
  it('derives a fact from the operation and its reported facts, matched against a closed set', () => {
    const status = ssh({ op: 'service', action: 'status', name: 'nginx' });
    expect(outcomeFactOf(status, out({ state: 'active' }))).toBe('R');
    expect(outcomeFactOf(status, out({ state: 'inactive' }))).toBe('S');
    expect(outcomeFactOf(winrm({ op: 'service', action: 'status', name: 'Spooler' }), out({ state: 'Stopped' }))).toBe(
      'S',
    );
    // A state outside the closed set, or one a target printed on stdout, states nothing.
    expect(outcomeFactOf(status, out({ state: 'activating' }))).toBe(' ');
    expect(outcomeFactOf(status, out({}, 'state=active\n18 running'))).toBe(' ');
    expect(outcomeFactOf(ssh({ op: 'config-backup', paths: ['/etc/nginx'] }), out({ archive: '/var/b.tgz' }))).toBe(
      'B',
    );
    expect(outcomeFactOf(ssh({ op: 'run', argv: ['echo', 'copied'] }), out({}))).toBe(' ');
    const copy = ssh({ op: 'file-copy', source: 'a.bin', sha256: 'a'.repeat(64), destination: '/tmp/a' });
    expect(outcomeFactOf(copy, out({ bytes: '45200000' }))).toBe('C');
    expect(outcomeBytesOf(out({ bytes: '45200000' }))).toBe(45_200_000);
    expect(outcomeBytesOf(out({ bytes: '12; rm -rf /' }))).toBeUndefined();
    const pkg = ssh({ op: 'package', action: 'update', name: 'nginx' });
    expect(outcomeFactOf(pkg, out({ previous_version: '1.0', version: '1.1' }))).toBe('U');
    expect(outcomeFactOf(pkg, out({ previous_version: '1.1', version: '1.1' }))).toBe('N');
  });

  it('counts a step row into "18 running, 7 stopped", "25 backups created", "25 copied (45.2 MB each)"', () => {
    expect(describeStepFacts(stepFactsOf(`${'R'.repeat(18)}${'S'.repeat(7)}`)!)).toBe('18 running, 7 stopped');
    expect(describeStepFacts(stepFactsOf('B'.repeat(25))!)).toBe('25 backups created');
    // Undone targets lose their fact: 25 copies, 2 of them rolled back, are 23 copied.
    expect(describeStepFacts(stepFactsOf('C'.repeat(25), undefined, (t) => t < 2)!)).toMatch(/^23 copied/);
    expect(stepFactsOf('CC', undefined, () => true)).toBeUndefined();
    expect(describeStepFacts(stepFactsOf('C'.repeat(25), { min: 45_200_000, max: 45_200_000 })!)).toBe(
      '25 copied (45.2 MB each)',
    );
    expect(describeStepFacts(stepFactsOf('CC ', { min: 1_000, max: 2_500_000 })!)).toBe('2 copied (1.0 kB to 2.5 MB)');
    expect(stepFactsOf('   ')).toBeUndefined();
    expect(formatBytes(999)).toBe('999 B');
  });

  it('writes and reads back a transfer report in its closed format', () => {
    const line = transferProgressLine({ direction: 'upload', sent: 23_100_000, total: 45_200_000, elapsedMs: 6_100 });
    expect(line).toBe('upload 23100000/45200000 bytes 6100 ms');
    const p = parseTransferProgress(line)!;
    expect(describeTransfer(p)).toBe('Copying file… (23.1 MB of 45.2 MB, 3.8 MB/s)');
    expect(describeTransfer({ ...p, sent: p.total, elapsedMs: 12_300 })).toBe('File sent (45.2 MB in 12.3 s)');
    expect(parseTransferProgress('upload 1/2 bytes 3 ms; <script>')).toBeNull();
    expect(parseTransferProgress('copied 1/2 bytes 3 ms')).toBeNull();
  });
});
