import { describe, expect, it } from 'vitest';
import { isDatabaseOutage } from './database-outage.js';

const failure = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('isDatabaseOutage', () => {
  it('calls a database that is away, restarting or full of connections an outage', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08006', '08001', '53300']) {
      expect(isDatabaseOutage(failure('x', code)), code).toBe(true);
    }
    expect(isDatabaseOutage(failure('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseOutage(failure('timeout exceeded when trying to connect'))).toBe(true);
    // Node reports a refused dual-stack connect as an AggregateError of one per address.
    expect(isDatabaseOutage(new AggregateError([failure('a', 'ECONNREFUSED'), failure('b', 'ECONNREFUSED')], 'connect'))).toBe(true);
  });

  it('does not wait on a request the database refuses for good', () => {
    for (const code of ['42501', '42P01', '23503', '22P02', '28P01', '3D000']) expect(isDatabaseOutage(failure('x', code)), code).toBe(false);
    expect(isDatabaseOutage(failure('syntax error'))).toBe(false);
    expect(isDatabaseOutage('ECONNREFUSED')).toBe(false);
  });
});
