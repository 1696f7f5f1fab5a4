import { describe, expect, it } from 'vitest';
import { CronExpression, cronProblem, isTimeZone } from './schedule-spec.js';

describe('cron expressions', () => {
  it('accepts five fields with lists, ranges, steps and names', () => {
    for (const ok of ['*/5 * * * *', '0 3 * * mon-fri', '15,45 8-18/2 1 jan,jul *', '@daily', ' 0  0 * * 0 '])
      expect(cronProblem(ok)).toBeNull();
  });
  it('names the field at fault', () => {
    expect(cronProblem('* * * *')).toMatch(/has 4 fields/);
    expect(cronProblem('61 * * * *')).toMatch(/minute field "61" is outside 0-59/);
    expect(cronProblem('* 5-2 * * *')).toMatch(/hour field/);
    expect(cronProblem('* * * * funday')).toMatch(/day of week/);
    expect(cronProblem('*/0 * * * *')).toMatch(/step of 0/);
    expect(cronProblem('rm -rf / ; *')).not.toBeNull();
  });
  it('normalises spacing', () => {
    expect(CronExpression.parse(' 0  3 * * * ')).toBe('0 3 * * *');
  });
});

describe('time zones', () => {
  it('knows IANA names and refuses others', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('../etc/passwd')).toBe(false);
  });
});
