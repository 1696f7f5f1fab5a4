import { describe, expect, it } from 'vitest';
import { transferReporter } from './transfer-progress.js';

describe('transferReporter', () => {
  it('reports at most once per interval, only increasing counts, and a final report once', () => {
    const lines: string[] = [];
    let now = 1_000;
    const r = transferReporter({ progress: (l) => lines.push(l) }, 'upload', 1_000, { everyMs: 250, now: () => now });
    for (let sent = 10; sent < 1_000; sent += 10) {
      now += 20;
      r.update(sent);
    }
    r.done();
    r.done();
    r.update(500);
    // 99 updates over 1.98 s: one every 250 ms at most, then the final one.
    expect(lines.length).toBe(8);
    expect(lines.at(-1)).toBe(`upload 1000/1000 bytes ${now - 1_000} ms`);
    const sent = lines.map((l) => Number(/ (\d+)\//.exec(l)![1]));
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
  });

  it('sends only the final report for a transfer quicker than the interval', () => {
    const lines: string[] = [];
    const r = transferReporter({ progress: (l) => lines.push(l) }, 'download', 10, { now: () => 0 });
    r.update(5);
    r.done();
    expect(lines).toEqual(['download 10/10 bytes 0 ms']);
  });
});
