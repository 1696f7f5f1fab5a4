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

  it("keeps a long transfer's reports few: a day-long copy writes far fewer lines than an attempt may keep", () => {
    const lines: string[] = [];
    let now = 0;
    const day = 86_400_000;
    const r = transferReporter({ progress: (l) => lines.push(l) }, 'upload', day, { now: () => now });
    for (now = 100; now < day; now += 100) r.update(now);
    r.done();
    // 4 a second for the whole day would be 345,600 lines, past the attempt's 10,000-line cap.
    expect(lines.length).toBeLessThan(1_000);
    // Still live: a report at least every 1% of the time gone (and never more often than 4 a second).
    const at = lines.map((l) => Number(/ (\d+) ms$/.exec(l)![1]));
    for (let i = 1; i < at.length - 1; i++) {
      expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(250);
      expect(at[i]! - at[i - 1]!).toBeLessThanOrEqual(Math.max(250, at[i - 1]! / 100) + 100);
    }
  });
});
