import { describe, expect, it } from 'vitest';
import { parseExecutorEnv } from './env.js';

describe('executor configuration', () => {
  it('has defaults that work on a fresh clone', () => {
    const env = parseExecutorEnv({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5433/opsconductor' });
    expect(env.EXECUTOR_HEALTH_PORT).toBe(8010);
    expect(env.EXECUTOR_LOCAL_COMMANDS).toContain('ping');
    expect(env.EXECUTOR_LOCAL_COMMANDS).not.toContain('rm');
    expect(env.EXECUTOR_STREAM_LINES_PER_ATTEMPT).toBe(10_000);
    expect(parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_STREAM_LINES_PER_ATTEMPT: '0' }).EXECUTOR_STREAM_LINES_PER_ATTEMPT).toBe(0);
  });

  it('names each bad variable', () => {
    expect(() => parseExecutorEnv({ DATABASE_URL: 'mysql://x', EXECUTOR_HEALTH_PORT: 'eighty' })).toThrow(
      /DATABASE_URL: must be a postgres:\/\/ URL[\s\S]*EXECUTOR_HEALTH_PORT/,
    );
  });

  it('reads a comma-separated allowlist', () => {
    const env = parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_LOCAL_COMMANDS: 'ping, /usr/bin/dig ,' });
    expect(env.EXECUTOR_LOCAL_COMMANDS).toEqual(['ping', '/usr/bin/dig']);
  });
});
