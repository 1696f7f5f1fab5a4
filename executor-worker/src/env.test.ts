import { describe, expect, it } from 'vitest';
import { activityPollers, parseExecutorEnv } from './env.js';

describe('executor configuration', () => {
  it('asks Temporal for steps with autoscaling polls by default, or a fixed number', () => {
    const db = { DATABASE_URL: 'postgres://x/y' };
    expect(activityPollers(parseExecutorEnv(db))).toEqual({ type: 'autoscaling', minimum: 2, maximum: 50, initial: 5 });
    expect(
      activityPollers(
        parseExecutorEnv({ ...db, EXECUTOR_ACTIVITY_POLLER_MODE: 'fixed', EXECUTOR_ACTIVITY_POLLERS_MAX: '20' }),
      ),
    ).toEqual({ type: 'simple-maximum', maximum: 20 });
    expect(() =>
      parseExecutorEnv({ ...db, EXECUTOR_ACTIVITY_POLLERS_MIN: '10', EXECUTOR_ACTIVITY_POLLERS_MAX: '5' }),
    ).toThrow(/EXECUTOR_ACTIVITY_POLLERS_MIN: 10 is more than EXECUTOR_ACTIVITY_POLLERS_MAX \(5\)/);
  });

  it('serves a named pool only for the tenants it names', () => {
    const db = { DATABASE_URL: 'postgres://x/y' };
    expect(parseExecutorEnv(db)).toMatchObject({ EXECUTOR_POOL: 'executor', EXECUTOR_POOL_TENANTS: [] });
    expect(parseExecutorEnv({ ...db, EXECUTOR_POOL: 'dmz', EXECUTOR_POOL_TENANTS: 'acme, globex' })).toMatchObject({
      EXECUTOR_POOL: 'dmz',
      EXECUTOR_POOL_TENANTS: ['acme', 'globex'],
    });
    expect(() => parseExecutorEnv({ ...db, EXECUTOR_POOL: 'dmz' })).toThrow(/EXECUTOR_POOL_TENANTS: name the tenants/);
    expect(() => parseExecutorEnv({ ...db, EXECUTOR_POOL_TENANTS: 'acme' })).toThrow(/only a named pool/);
    expect(() => parseExecutorEnv({ ...db, EXECUTOR_POOL: 'DMZ' })).toThrow(/EXECUTOR_POOL: lower-case/);
  });

  it('has defaults that work on a fresh clone', () => {
    const env = parseExecutorEnv({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5433/opsconductor' });
    expect(env.EXECUTOR_HEALTH_PORT).toBe(8010);
    expect(env.EXECUTOR_LOCAL_COMMANDS).toContain('ping');
    expect(env.EXECUTOR_LOCAL_COMMANDS).not.toContain('rm');
    // Network clients belong to the http method and its egress policy.
    expect(env.EXECUTOR_LOCAL_COMMANDS).not.toContain('curl');
    expect(env.EXECUTOR_LOCAL_COMMANDS).not.toContain('nc');
    expect(env.EXECUTOR_SANDBOX_USER).toBe('opsc-sandbox');
    expect(env.EXECUTOR_EGRESS_DENY).toEqual([]);
    expect(env.EXECUTOR_STREAM_LINES_PER_ATTEMPT).toBe(10_000);
    expect(
      parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_STREAM_LINES_PER_ATTEMPT: '0' })
        .EXECUTOR_STREAM_LINES_PER_ATTEMPT,
    ).toBe(0);
    // A database outage: results kept on the executor (bounded), lookups remembered for a short while.
    expect(env).toMatchObject({
      EXECUTOR_RESULT_OUTBOX_MAX_RECORDS: 10_000,
      EXECUTOR_RESULT_OUTBOX_MAX_BYTES: 134_217_728,
      EXECUTOR_RESULT_OUTBOX_FLUSH_SECONDS: 30,
      EXECUTOR_LOOKUP_CACHE_SECONDS: 300,
      EXECUTOR_LOOKUP_CACHE_ENTRIES: 10_000,
    });
    expect(() => parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_RESULT_OUTBOX_MAX_RECORDS: '0' })).toThrow(
      /EXECUTOR_RESULT_OUTBOX_MAX_RECORDS/,
    );
  });

  it('names each bad variable', () => {
    expect(() => parseExecutorEnv({ DATABASE_URL: 'mysql://x', EXECUTOR_HEALTH_PORT: 'eighty' })).toThrow(
      /DATABASE_URL: must be a postgres:\/\/ URL[\s\S]*EXECUTOR_HEALTH_PORT/,
    );
    expect(() => parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', TEMPORAL_TLS_CA_FILE: '' })).toThrow(
      /TEMPORAL_TLS_CA_FILE/,
    );
  });

  it('checks the egress deny list and the paths to hide, naming the bad entry', () => {
    const env = parseExecutorEnv({
      DATABASE_URL: 'postgres://x/y',
      EXECUTOR_EGRESS_DENY: '127.0.0.1:3005, web:3000,10.0.0.0/8',
      EXECUTOR_SANDBOX_HIDE: '/srv/keys',
    });
    expect(env.EXECUTOR_EGRESS_DENY).toEqual(['127.0.0.1:3005', 'web:3000', '10.0.0.0/8']);
    expect(env.EXECUTOR_SANDBOX_HIDE).toEqual(['/srv/keys']);
    expect(() => parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_EGRESS_DENY: '127.0.0.1:http' })).toThrow(
      /EXECUTOR_EGRESS_DENY: 127.0.0.1:http: the port/,
    );
    expect(() => parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_SANDBOX_HIDE: 'relative/dir' })).toThrow(
      /EXECUTOR_SANDBOX_HIDE: relative\/dir: must be an absolute path/,
    );
    expect(() => parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_SANDBOX_USER: 'root;x' })).toThrow(
      /EXECUTOR_SANDBOX_USER/,
    );
  });

  it('takes an empty OTLP endpoint (compose writes `${VAR:-}`) as tracing off, and refuses a non-http one', () => {
    const off = parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    expect(off.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const on = parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' });
    expect(on.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    expect(() =>
      parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', OTEL_EXPORTER_OTLP_ENDPOINT: 'file:///etc/passwd' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('reads a comma-separated allowlist', () => {
    const env = parseExecutorEnv({ DATABASE_URL: 'postgres://x/y', EXECUTOR_LOCAL_COMMANDS: 'ping, /usr/bin/dig ,' });
    expect(env.EXECUTOR_LOCAL_COMMANDS).toEqual(['ping', '/usr/bin/dig']);
  });
});
