import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor, executorSecrets } from './redaction.js';

const PEM =
  '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIHhhbXBsZWtleW1hdGVyaWFsZm9ydGVzdHNvbmx5MDA=\n-----END PRIVATE KEY-----\n';

describe("redaction of the executor's own secrets", () => {
  it('removes the vault key whole, line by line, and the database password as written and decoded', () => {
    const redact = createRedactor(
      executorSecrets({ vaultPems: [PEM], databaseUrl: 'postgres://opsc_executor:s3cr%2Ft-pass@db:5432/x' }),
    );
    expect(redact(`key:\n${PEM}`)).toBe(`key:\n${REDACTED}\n`);
    expect(redact('line MC4CAQAwBQYDK2VuBCIEIHhhbXBsZWtleW1hdGVyaWFsZm9ydGVzdHNvbmx5MDA= end')).toBe(
      `line ${REDACTED} end`,
    );
    expect(redact('DATABASE_URL=postgres://opsc_executor:s3cr%2Ft-pass@db')).toBe(
      `DATABASE_URL=postgres://opsc_executor:${REDACTED}@db`,
    );
    expect(redact('password is s3cr/t-pass')).toBe(`password is ${REDACTED}`);
  });

  it('leaves other text alone and ignores fragments too short to be told from output', () => {
    const redact = createRedactor(['abc', 'a-long-secret']);
    expect(redact('abc abc')).toBe('abc abc');
    expect(redact('x a-long-secret y a-long-secret')).toBe(`x ${REDACTED} y ${REDACTED}`);
    expect(createRedactor([])('anything')).toBe('anything');
  });
});
