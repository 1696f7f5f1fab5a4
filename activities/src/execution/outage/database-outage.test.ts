import { describe, expect, it } from 'vitest';
import { createOutageWait, isDatabaseOutage, mayBeBusyNotDown } from './database-outage.js';

const failure = (message: string, code?: string) =>
  Object.assign(new Error(message), code === undefined ? {} : { code });

describe('isDatabaseOutage', () => {
  it('calls a database that is away, restarting or full of connections an outage', () => {
    for (const code of [
      'ECONNREFUSED',
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'EAI_AGAIN',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      '53300',
    ]) {
      expect(isDatabaseOutage(failure('x', code)), code).toBe(true);
    }
    expect(isDatabaseOutage(failure('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseOutage(failure('timeout exceeded when trying to connect'))).toBe(true);
    // Node reports a refused dual-stack connect as an AggregateError of one per address.
    expect(
      isDatabaseOutage(new AggregateError([failure('a', 'ECONNREFUSED'), failure('b', 'ECONNREFUSED')], 'connect')),
    ).toBe(true);
  });

  it('does not wait on a request the database refuses for good', () => {
    for (const code of ['42501', '42P01', '23503', '22P02', '28P01', '3D000'])
      expect(isDatabaseOutage(failure('x', code)), code).toBe(false);
    expect(isDatabaseOutage(failure('syntax error'))).toBe(false);
    expect(isDatabaseOutage('ECONNREFUSED')).toBe(false);
  });
});

describe('what was remembered stands in for the database only when it is down, not when it is busy', () => {
  it("tells a pool's wait for a free connection and too many connections apart from a database that is away", () => {
    expect(mayBeBusyNotDown(failure('timeout exceeded when trying to connect'))).toBe(true);
    expect(mayBeBusyNotDown(failure('x', '53300'))).toBe(true);
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '57P01', '08006'])
      expect(mayBeBusyNotDown(failure('x', code)), code).toBe(false);
    expect(mayBeBusyNotDown(failure('Connection terminated unexpectedly'))).toBe(false);
  });

  it('answers from memory for a refused connection, and fails retryable, having run nothing, for a busy pool', async () => {
    const wait = createOutageWait();
    const remembered = () => 'remembered';
    await expect(
      wait.outlast('the job', () => Promise.reject(failure('connect ECONNREFUSED', 'ECONNREFUSED')), remembered),
    ).resolves.toBe('remembered');
    await expect(
      wait.outlast('the job', () => Promise.reject(failure('timeout exceeded when trying to connect')), remembered),
    ).rejects.toMatchObject({
      type: 'RecordsUnavailable',
      message: expect.stringContaining('nothing was run'),
    });
  });
});
